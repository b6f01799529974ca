import time
from tests.web.conftest import WebServer
from tests.web.test_editor_checks import CANDIDATE_LAYER, TRACKING_SCENE, _track

def test_probe(web_server: WebServer) -> None:
    user = "probe-tmp"
    web_server.add_user(user)
    scene_id = web_server.scene_id(TRACKING_SCENE)
    task = web_server.create_task(scene_id, user, layer=f"work-{user}")
    api = web_server.api(user)
    api.call("POST", f"/api/tasks/{task['id']}/start", {"expected_version": task["version"]})
    t = time.time()
    queue = api.call("GET", f"/api/scenes/{scene_id}/guidance?task_id={task['id']}")
    print("queue s", time.time() - t)
    items = [a for a in queue if a["kind"] == "confirm_moving"]
    print("order", [a["track_id"] for a in items])
    for a in items:
        cand = a["track_id"]
        v = _track(api, scene_id, CANDIDATE_LAYER, cand)["version"]
        res = api.call("POST", f"/api/tracks/{cand}/confirm", {"expected_version": v, "task_id": task["id"], "keyframes": a["keyframes"]})
        copy = str(res["track"]["id"])
        t = time.time()
        g = [x for x in api.call("GET", f"/api/scenes/{scene_id}/guidance?task_id={task['id']}") if x["track_id"] == copy]
        life = [x["life"] for x in g if x["kind"] == "accept_life"]
        weak = [x["frame"] for x in g if x["kind"] == "check_end"]
        print("cand", cand, "life", life, "weak", weak, "s", round(time.time() - t, 1))
        cv = _track(api, scene_id, task["layer"], copy)["version"]
        api.call("DELETE", f"/api/tracks/{copy}?expected_version={cv}&task_id={task['id']}")
        v = _track(api, scene_id, CANDIDATE_LAYER, cand)["version"]
        api.call("POST", f"/api/tracks/{cand}/reopen", {"expected_version": v, "task_id": task["id"]})
