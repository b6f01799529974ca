// @ts-check
/**
 * Decisions on many candidates in one request (`POST /api/candidates/reject`, `/reopen`): the bulk
 * rejection of the queue's suggested false positives, its undo (reopen them all) and its redo. All or
 * nothing on the server; shown at once in the model, rolled back by the pipeline's transaction when
 * the server refuses.
 */

/** @typedef {import('./editPipeline.js').Decided} Decided */
/** @typedef {import('./editPipeline.js').EditPipeline} EditPipeline */
/** @typedef {import('./editHistory.js').EditTarget} EditTarget */
/** @typedef {'reject' | 'reopen'} BatchDecision */

/** Candidates one request may decide on (the server refuses more). */
export const MAX_BATCH = 5000;

/**
 * Show the decision at once: rejected candidates leave the model, reopened ones come back as the
 * server last had them (as candidates).
 * @param {EditPipeline} pipeline
 * @param {string[]} ids candidates
 * @param {BatchDecision} decision
 */
export function showDecision(pipeline, ids, decision) {
  const status = decision === 'reject' ? 'rejected' : 'candidate';
  for (const id of ids) {
    const server = pipeline.serverTrack(id);
    if (server) pipeline.model.putCandidate({ ...server, status }, undefined, false);
  }
  pipeline.model.emit('tracks', {});
  pipeline.model.emit('kpi', {});
}

/**
 * The one request deciding on every candidate of ``ids`` (run it inside a transaction).
 * @param {EditPipeline} pipeline
 * @param {EditTarget} target
 * @param {string[]} ids
 * @param {BatchDecision} decision
 * @returns {Promise<Decided[]>} each candidate's new version and status
 */
export function sendDecision(pipeline, target, ids, decision) {
  return pipeline.sendBatch(ids, (tracks) =>
    target.api.post(`/api/candidates/${decision}`, { tracks, task_id: target.taskId }),
  );
}
