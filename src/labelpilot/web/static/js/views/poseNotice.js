// @ts-check
/**
 * The ego-pose notice at the top of the guidance panel. When the scene's stationary landmarks (its
 * own stationary candidates) and its ego poses disagree, `GET /api/scenes/{id}/ego-poses` answers a
 * notice: the editor shows it with the poses in use and the landmarks' spread before and after the
 * correction, so that a person knows why a parked car's one world box may sit a little off in some
 * frames (and does not key it frame by frame to chase a pose error). Nothing is shown otherwise.
 */

/** @typedef {import('../api.js').Api} Api */

/**
 * @typedef {object} PoseEstimate
 * @property {boolean} applied
 * @property {string} reason
 * @property {string | null} notice
 * @property {number} landmarks
 * @property {number} inliers
 * @property {number} disagreement_before_m
 * @property {number} disagreement_after_m
 * @property {string[]} disagreeing
 * @property {{mean_scale: number} | null} parameters
 */

/**
 * @typedef {object} PoseStatus `GET /api/scenes/{id}/ego-poses`
 * @property {string} active "raw" (the imported poses) or a pose layer, e.g. "corrected"
 * @property {PoseEstimate | null} estimate the latest estimate
 * @property {string | null} notice
 */

/** @param {number} metres */
const metres = (metres) => `${metres.toFixed(2)} m`;

/**
 * Fill `box` from a pose status; hidden when there is no notice.
 * @param {HTMLElement} box
 * @param {PoseStatus} status
 */
export function renderPoseNotice(box, status) {
  const estimate = status.estimate;
  box.hidden = !status.notice || !estimate;
  if (!status.notice || !estimate) {
    box.replaceChildren();
    return;
  }
  const doc = box.ownerDocument;
  const title = doc.createElement('strong');
  title.textContent = 'Ego poses and landmarks disagree';
  const text = doc.createElement('div');
  text.dataset.testid = 'pose-notice-text';
  text.textContent = status.notice;
  const facts = doc.createElement('div');
  facts.className = 'muted';
  const scale = estimate.parameters ? `, scale ${estimate.parameters.mean_scale.toFixed(3)}` : '';
  const poses = status.active === 'raw' ? 'imported poses in use' : `${status.active} poses in use${scale}`;
  facts.textContent =
    `${poses}; landmark spread ${metres(estimate.disagreement_before_m)} → ` +
    `${metres(estimate.disagreement_after_m)} (${estimate.inliers} of ${estimate.landmarks} landmarks)`;
  box.dataset.active = status.active;
  box.dataset.spreadBefore = estimate.disagreement_before_m.toFixed(2);
  box.dataset.spreadAfter = estimate.disagreement_after_m.toFixed(2);
  box.replaceChildren(title, text, facts);
}

/**
 * Put the notice under the panel's heading and fill it from the API (advisory: when the request
 * fails the editor works on without it).
 * @param {HTMLElement} panel the guidance panel (mounted)
 * @param {Api} api
 * @param {number} sceneId
 * @returns {Promise<HTMLElement>} the notice element
 */
export async function mountPoseNotice(panel, api, sceneId) {
  const box = panel.ownerDocument.createElement('div');
  box.className = 'notice';
  box.dataset.testid = 'pose-notice';
  box.hidden = true;
  box.style.flex = 'none';
  box.style.margin = '4px 8px';
  box.style.fontSize = '12px';
  const heading = panel.querySelector('h2');
  if (heading) heading.after(box);
  else panel.prepend(box);
  try {
    renderPoseNotice(box, /** @type {PoseStatus} */ (await api.get(`/api/scenes/${sceneId}/ego-poses`)));
  } catch (error) {
    box.hidden = true;
    console.warn('ego-pose notice unavailable', error);
  }
  return box;
}
