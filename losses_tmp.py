"""Where recall and precision are lost in the guided workflow (analysis only; reads ground truth)."""
import sys, collections
from pathlib import Path
import numpy as np
import labelpilot.services.effort_runs as runs
from labelpilot.effort.quality import evaluate as real_evaluate
from labelpilot.geometry import iou_3d_pairs, CuboidBatch
from labelpilot.tracks import world_shapes

TOT = collections.Counter()

def analysed(truth, delivered):
    ev = real_evaluate(truth, delivered)
    per_frame = collections.defaultdict(list)
    for t in delivered:
        s = world_shapes(t)
        for f, c in zip(s.frames.tolist(), s.cuboids.to_cuboids()):
            per_frame[f].append((t.track_id, c))
    used = set()
    for obj in truth.objects.values():
        cubs = obj.shapes.to_cuboids()
        votes = collections.Counter()
        for f, c in zip(obj.frames.tolist(), cubs):
            for tid, d in per_frame.get(f, []):
                if np.linalg.norm(d.center[:2] - c.center[:2]) < 2.0:
                    votes[tid] += 1
        owner = votes.most_common(1)[0][0] if votes else None
        kind = "stat" if obj.stationary else "mov"
        for f, c in zip(obj.frames.tolist(), cubs):
            if owner is None:
                TOT[f"{kind} never tracked"] += 1; continue
            d = next((d for tid, d in per_frame.get(f, []) if tid == owner), None)
            if d is None:
                before = f < min(ff for ff, lst in per_frame.items() if any(t == owner for t, _ in lst))
                TOT[f"{kind} no shape ({'before start' if before else 'after start'})"] += 1; continue
            used.add((owner, f))
            iou = float(iou_3d_pairs(CuboidBatch.from_cuboids([d]), CuboidBatch.from_cuboids([c]))[0])
            TOT[f"{kind} {'pass' if iou >= obj.threshold else 'iou fail'}"] += 1
    for f, lst in per_frame.items():
        for tid, _ in lst:
            if (tid, f) not in used:
                TOT["delivered shape with no GT object of its track"] += 1
    print(ev.overall, flush=True)
    return ev

runs.evaluate = analysed
from labelpilot.services.effort_bench import run_effort, EffortRequest
from labelpilot.services.effort_runs import DEFAULT_SETTINGS
ds = sys.argv[1]; root = Path(sys.argv[2]); seqs = sys.argv[3].split(",") if len(sys.argv) > 3 else None
req = EffortRequest(ds, root, seqs, "pointrcnn" if ds == "kitti-tracking" else "tracker", ["guided"], 25.0, DEFAULT_SETTINGS)
run_effort(req)
for k, v in sorted(TOT.items()): print(f"{k:50s} {v}")
