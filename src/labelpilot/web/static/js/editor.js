// @ts-check
/**
 * The editor's facade: opens the task of `?task=ID` (or the person's next task), loads everything
 * the model holds, mounts the views into the page shell (editor.html) and turns keys into actions
 * through the one keymap table.
 *
 * With `?debug=1` the editor is reachable as `window.labelpilot` ({model, controller, keymap}) for
 * browser tests and the console; otherwise it puts nothing on `window`.
 */

import { api as defaultApi } from './api.js';
import { EditorController } from './controller.js';
import { Keymap } from './keymap.js';
import { EditorModel } from './model.js';
import { bindLogout, goToLogin, HOME_PATH } from './pages/session.js';
import { mountCameraPanel } from './views/cameraPanel.js';
import { mountCheckStatus } from './views/checkStatus.js';
import { mountConflictDialog } from './views/conflictDialog.js';
import { isDialogOpen } from './views/dialog.js';
import { mountGuidancePanel } from './views/guidancePanel.js';
import { mountHelpOverlay } from './views/helpOverlay.js';
import { mountKpiStrip } from './views/kpiStrip.js';
import { mountPoseNotice } from './views/poseNotice.js';
import { mountObjectList } from './views/objectList.js';
import { SceneView } from './views/sceneView.js';
import { mountStationaryReview } from './views/stationaryReview.js';
import { mountSubmitDialog } from './views/submitDialog.js';
import { mountTimeline } from './views/timeline.js';
import { mountToasts, mountTopbar } from './views/topbar.js';

/** @typedef {import('./api.js').Api} Api */
/** @typedef {import('./editorTypes.js').Task} Task */
/** @typedef {import('./editorTypes.js').Scene} Scene */
/** @typedef {import('./editorTypes.js').EditResult} EditResult */

/** Task states in which the assignee opens the task by starting it. */
const STARTABLE = new Set(['queued', 'rejected']);
/** Actions a held-down key repeats; edits never repeat by accident. */
const REPEATABLE = new Set(['prevFrame', 'nextFrame', 'nextTrack', 'prevScanFrame', 'nextScanFrame']);

export class Editor {
  /**
   * @param {Document} doc the page (editor.html)
   * @param {Api} api
   */
  constructor(doc, api) {
    this.doc = doc;
    this.api = api;
    this.model = new EditorModel();
    this.controller = new EditorController(this.model, api);
    /** @type {Keymap} */
    this.keymap = new Keymap('');
    /** @type {{open(): void} | null} */
    this.submitDialog = null;
    /** @type {{open(): void, toggle(): void} | null} */
    this.help = null;
    /** @type {{open(): Promise<void>} | null} the stationary-objects review (key r) */
    this.review = null;
  }

  /** @param {string} id */
  element(id) {
    const el = this.doc.getElementById(id);
    if (!el) throw new Error(`editor.html has no #${id}`);
    return el;
  }

  /**
   * Open a task: start it if it is the person's and waiting, then load it and mount the views.
   * @param {number | null} taskId null: the person's next task
   */
  async open(taskId) {
    const me = await this.api.me();
    let task = /** @type {Task | null} */ (
      taskId === null ? await this.api.post('/api/tasks/next', {}) : await this.api.get(`/api/tasks/${taskId}`)
    );
    if (!task) {
      this.element('scene-view').textContent = 'No task is waiting for you.';
      return;
    }
    if (taskId === null)
      history.replaceState(null, '', `?task=${task.id}${location.search.includes('debug') ? '&debug=1' : ''}`);
    const mine = task.assignee === me.user.name;
    if (mine && STARTABLE.has(task.state)) {
      task = /** @type {Task} */ (
        await this.api.post(`/api/tasks/${task.id}/start`, { expected_version: task.version })
      );
    }
    this.keymap = new Keymap(me.user.name);
    await this.#load(task, me.user.name, mine && task.state === 'in_progress');
    this.#mount();
    this.#bindKeys();
    this.controller.events.startHeartbeat(this.doc);
    // The queue takes a few seconds on a long scene; the editor is usable meanwhile.
    void this.controller.guidanceFlow.refresh();
  }

  /**
   * @param {Task} task
   * @param {string} userName
   * @param {boolean} editable
   */
  async #load(task, userName, editable) {
    const api = this.api;
    const sceneUrl = `/api/scenes/${task.scene_id}`;
    const [scene, frames, sizePriors] = await Promise.all([
      /** @type {Promise<Scene>} */ (api.get(sceneUrl)),
      api.get(`${sceneUrl}/frames`),
      api.get(`/api/projects/${task.project_id}/size-priors`),
    ]);
    const names = scene.layers.map((l) => l.name);
    // The candidates the guidance reads: candidates:* layers, else the raw auto:* layers.
    const built = names.filter((n) => n.startsWith('candidates:'));
    const candidateLayers = (built.length ? built : names.filter((n) => n.startsWith('auto:'))).filter(
      (n) => n !== task.layer,
    );
    /** @param {string} layer */
    const layerTracks = (layer) =>
      names.includes(layer)
        ? /** @type {Promise<EditResult[]>} */ (api.get(`${sceneUrl}/layers/${encodeURIComponent(layer)}/tracks`))
        : Promise.resolve(/** @type {EditResult[]} */ ([]));
    const [work, ...candidates] = await Promise.all([task.layer, ...candidateLayers].map(layerTracks));
    this.model.load({
      task,
      scene,
      frames,
      userName,
      editable,
      sizePriors,
      tracks: work,
      candidates: candidates.flatMap((items, i) => items.map((item) => ({ ...item, layer: candidateLayers[i] }))),
    });
    this.controller.loaded();
  }

  #mount() {
    const { model, controller, keymap } = this;
    const overlay = this.element('overlay-root');
    mountTopbar(this.doc, model);
    mountToasts(overlay, model);
    mountKpiStrip(this.element('kpi'), model);
    const sceneView = new SceneView(this.element('scene-view'), model, controller);
    controller.boxFitter = sceneView;
    this.review = mountStationaryReview(
      this.element('scene-view'),
      model,
      controller,
      sceneView,
      keymap,
      this.api,
      (event) => isDialogOpen(overlay) || isTyping(event.target),
    );
    mountCameraPanel(this.element('camera-panel'), model);
    mountObjectList(this.element('object-list'), model, controller);
    const guidance = mountGuidancePanel(this.element('guidance-panel'), model, controller, keymap);
    if (model.task) void mountPoseNotice(this.element('guidance-panel'), this.api, model.task.scene_id);
    const checkStatus = mountCheckStatus(this.element('guidance-panel'), model, controller.checkFlow, keymap);
    mountTimeline(this.element('timeline'), model, controller);
    mountConflictDialog(overlay, model, controller);
    this.help = mountHelpOverlay(overlay, model, keymap, () => {
      guidance.render();
      checkStatus.render();
    });
    this.submitDialog = mountSubmitDialog(overlay, model, controller, () => location.assign(HOME_PATH));
    this.element('help-button').addEventListener('click', () => this.help?.open());
    this.element('submit').addEventListener('click', () => this.submitDialog?.open());
    bindLogout(this.doc.getElementById('logout'), this.api);
    const submit = /** @type {HTMLButtonElement} */ (this.element('submit'));
    const showSubmit = () => {
      submit.disabled = !model.editable;
    };
    model.on('tracks', showSubmit);
    showSubmit();
    if (!model.editable) model.notify('read only: this task is not in progress for you');
  }

  #bindKeys() {
    const overlay = this.element('overlay-root');
    // A panel button keeps no focus after a click, so Enter and Space go to the shortcuts, not to it.
    this.doc.addEventListener('click', (event) => {
      const button = event.target instanceof Element ? event.target.closest('button') : null;
      if (button instanceof HTMLButtonElement && !overlay.contains(button)) button.blur();
    });
    this.doc.addEventListener('keydown', (event) => {
      if (isDialogOpen(overlay) || event.defaultPrevented || isTyping(event.target)) return;
      const action = this.keymap.actionFor(event);
      if (action === null || (event.repeat && !REPEATABLE.has(action))) return;
      const run = this.actions[action];
      if (!run) return;
      event.preventDefault();
      void run();
    });
  }

  /** Every keymap action, as what it does in this editor. */
  get actions() {
    const { model, controller } = this;
    const flow = controller.guidanceFlow;
    /** @param {(id: string) => unknown} act */
    const onSelected = (act) => () => {
      const id = model.selectedId;
      if (id === null) model.notify('select an object first (click it, or n for the next suggestion)', 'error');
      else return act(id);
      return null;
    };
    /** @type {Record<string, () => unknown>} */
    const actions = {
      prevFrame: () => controller.prevFrame(),
      nextFrame: () => controller.nextFrame(),
      togglePlay: () => controller.togglePlay(),
      firstFrame: () => controller.goToFrame(0),
      lastFrame: () => controller.goToFrame(model.frameCount - 1),
      nextScanFrame: () => controller.stepScan(1),
      prevScanFrame: () => controller.stepScan(-1),
      nextTrack: () => this.#selectNextHere(),
      cancel: () => controller.cancel(),
      nextAction: () => controller.nextAction(),
      followAction: () => {
        const action = model.guidance[model.guidanceIndex];
        return action ? controller.followAction(action) : flow.next();
      },
      followNudge: () => controller.followNudge(0),
      dismissNudge: () => controller.dismissNudge(0),
      checkNext: () => controller.checkFlow.checkNext(),
      findEnd: () => controller.checkFlow.startEndSearch(),
      objectHere: () => controller.checkFlow.answer(true),
      objectNotHere: () => controller.checkFlow.answer(false),
      measure: () => controller.goToMeasurement(model.selectedId),
      acceptLife: onSelected((id) => flow.acceptLife(id)),
      confirm: () => flow.confirmSelected(),
      reject: onSelected((id) => controller.rejectCandidate(id)),
      rejectSuggested: () => flow.rejectSuggested(),
      markStationary: onSelected((id) => controller.markStationary(id)),
      markMoving: onSelected((id) => controller.markMoving(id)),
      setKeyframe: onSelected((id) => controller.setKeyframe(id)),
      deleteKeyframe: onSelected((id) => controller.deleteKeyframe(id)),
      extendTrack: onSelected((id) => controller.extendTrack(id)),
      markAbsent: onSelected((id) => controller.markAbsent(id)),
      draw: () => controller.startDraw(),
      fitToPoints: onSelected((id) => controller.fitToPoints(id)),
      deleteTrack: onSelected((id) => controller.deleteTrack(id)),
      undo: () => controller.undo(),
      redo: () => controller.redo(),
      stationaryReview: () => this.review?.open(),
      help: () => this.help?.toggle(),
      submit: () => this.submitDialog?.open(),
    };
    for (let n = 1; n <= 9; n += 1) actions[`class${n}`] = () => controller.setClass(n);
    return actions;
  }

  /** Tab: the next object with a box in this frame, work tracks first. */
  #selectNextHere() {
    const here = this.model.shapesAt(this.model.frameIndex);
    if (!here.length) return;
    const at = here.findIndex((s) => s.id === this.model.selectedId);
    this.controller.select(here[(at + 1) % here.length].id);
  }
}

/** @param {EventTarget | null} target */
function isTyping(target) {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

/** Open the page's editor; a logged-out visitor goes to the login page. */
async function main() {
  const params = new URLSearchParams(location.search);
  const raw = params.get('task');
  const editor = new Editor(document, defaultApi);
  if (params.has('debug')) Object.assign(window, { labelpilot: editor });
  try {
    await editor.open(raw && /^\d+$/.test(raw) ? Number(raw) : null);
    document.body.dataset.editorReady = 'true';
  } catch (error) {
    if (error instanceof Error && 'status' in error && error.status === 401) {
      goToLogin();
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    const view = document.getElementById('scene-view');
    if (view) view.textContent = `The task could not be opened: ${message}`;
    document.body.dataset.editorReady = 'error';
  }
}

void main();
