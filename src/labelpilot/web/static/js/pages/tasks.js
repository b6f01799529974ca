// @ts-check
/**
 * The home page: the live KPI dashboard (dashboard.js) above "My tasks": the caller's tasks in every
 * project, "Start next task", and the way into the editor.
 */

import { api, ApiError } from '../api.js';
import { mountDashboard } from './dashboard.js';
import { bindLogout, goToLogin } from './session.js';

/**
 * @typedef {import('../types.js').Task} Task
 * @typedef {import('../types.js').Project} Project
 * @typedef {import('../types.js').SceneSummary} SceneSummary
 * @typedef {{task: Task, project: Project, scene: SceneSummary | undefined}} TaskRowData
 */

const STARTABLE = new Set(['queued', 'rejected']);
const STATE_NAMES = /** @type {Record<string, string>} */ ({
  queued: 'queued',
  in_progress: 'in progress',
  submitted: 'submitted',
  accepted: 'accepted',
  rejected: 'rework',
});

/**
 * @param {string} id
 * @returns {HTMLElement}
 */
function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element;
}

const body = byId('tasks-body');
const message = byId('tasks-message');
const startNext = /** @type {HTMLButtonElement} */ (byId('start-next'));

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {{className?: string, text?: string}} [options]
 * @param {(Node | string)[]} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
function el(tag, options = {}, children = []) {
  const element = document.createElement(tag);
  if (options.className) element.className = options.className;
  if (options.text !== undefined) element.textContent = options.text;
  element.append(...children);
  return element;
}

/**
 * @param {string} text
 * @param {'notice' | 'error'} kind
 */
function say(text, kind = 'notice') {
  message.textContent = text;
  message.className = kind;
  message.hidden = false;
}

/** @param {number} taskId */
function editorUrl(taskId) {
  return `/editor?${new URLSearchParams({ task: String(taskId) })}`;
}

/** @param {unknown} error */
function failed(error) {
  if (error instanceof ApiError && error.status === 401) {
    goToLogin();
    return;
  }
  say(error instanceof Error ? error.message : String(error), 'error');
}

/**
 * Start a queued (or rejected) task of the caller, then open it.
 * @param {Task} task
 */
async function openTask(task) {
  if (STARTABLE.has(task.state)) await api.post(`/api/tasks/${task.id}/start`, { expected_version: task.version });
  location.assign(editorUrl(task.id));
}

/** @param {string} iso */
function when(iso) {
  const date = new Date(iso.endsWith('Z') || iso.includes('+') ? iso : `${iso}Z`);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/**
 * @param {TaskRowData} row
 * @returns {HTMLTableRowElement}
 */
function taskRow({ task, project, scene }) {
  const actions = el('td', { className: 'actions' });
  if (task.state === 'in_progress') {
    const open = el('a', { className: 'btn small primary', text: 'Open' });
    open.href = editorUrl(task.id);
    actions.append(open);
  } else if (STARTABLE.has(task.state)) {
    const start = el('button', { className: 'btn small', text: task.state === 'rejected' ? 'Rework' : 'Start' });
    start.type = 'button';
    start.addEventListener('click', () => {
      start.disabled = true;
      openTask(task).catch((error) => {
        start.disabled = false;
        failed(error);
      });
    });
    actions.append(start);
  }
  const tr = el('tr', {}, [
    el('td', { className: 'num', text: `#${task.id}` }),
    el('td', { text: project.name }),
    el('td', { text: scene ? scene.name : `scene ${task.scene_id}` }),
    el('td', { text: task.kind }),
    el('td', {}, [el('span', { className: `badge ${task.state}`, text: STATE_NAMES[task.state] ?? task.state })]),
    el('td', { className: 'muted', text: when(task.updated_at) }),
    actions,
  ]);
  tr.dataset.taskId = String(task.id);
  tr.dataset.state = task.state;
  return tr;
}

/**
 * Every task of the caller, most urgent first within each project.
 * @param {Project[]} projects
 * @returns {Promise<TaskRowData[]>}
 */
async function loadTasks(projects) {
  const perProject = await Promise.all(
    projects.map(async (project) => {
      /** @type {[Task[], SceneSummary[]]} */
      const [tasks, scenes] = await Promise.all([
        api.get(`/api/projects/${project.id}/tasks?mine=true`),
        api.get(`/api/projects/${project.id}/scenes`),
      ]);
      const sceneById = new Map(scenes.map((scene) => [scene.id, scene]));
      return tasks.map((task) => ({ task, project, scene: sceneById.get(task.scene_id) }));
    }),
  );
  return perProject.flat();
}

/** @param {Project[]} projects */
async function render(projects) {
  const rows = await loadTasks(projects);
  body.dataset.loaded = 'true';
  if (rows.length === 0) {
    body.replaceChildren(
      el('tr', {}, [el('td', { className: 'empty', text: 'No tasks yet. "Start next task" takes one from the queue.' })]),
    );
    /** @type {HTMLTableCellElement} */ (body.querySelector('td')).colSpan = 7;
    return;
  }
  body.replaceChildren(...rows.map(taskRow));
}

startNext.addEventListener('click', async () => {
  startNext.disabled = true;
  try {
    /** @type {Task | null} */
    const next = await api.post('/api/tasks/next', {});
    if (next === null) {
      say('No task is waiting for you right now.');
      startNext.disabled = false;
      return;
    }
    await openTask(next);
  } catch (error) {
    startNext.disabled = false;
    failed(error);
  }
});

bindLogout(byId('logout'));

try {
  const { user } = await api.me();
  byId('user-name').textContent = user.name;
  /** @type {Project[]} */
  const projects = await api.get('/api/projects');
  // The task list never waits for the dashboard (its KPIs may take longer to compute).
  const dashboard = mountDashboard(byId('dashboard'), { user, projects, onLoggedOut: () => goToLogin() }).catch(failed);
  await render(projects);
  await dashboard;
} catch (error) {
  failed(error);
}
