// @ts-check
/**
 * The timeline: frames across, tracks down, on one canvas. A moving track is a bar over the frames
 * where it has a box with its keyframes marked; a stationary track is one solid bar; candidates are
 * drawn apart (outlined, in their own colour, below the work layer); frames the guidance flags are
 * marked on the ruler and in their track's row; a life the guidance proposes (``accept_life``) is a
 * dashed outline over its row, from the proposed first to the proposed last frame, with the ends the
 * evidence leaves weak (``check_end``) ticked; the current frame is a cursor line.
 *
 * Click or drag on the ruler to jump; click a row to select its track at that frame. The wheel
 * scrolls the rows, shift+wheel pans and ctrl+wheel zooms the frames.
 */

/** @typedef {import('../model.js').EditorModel} EditorModel */
/** @typedef {import('../controller.js').EditorController} EditorController */
/** @typedef {import('../editorTypes.js').Track} Track */

const RULER = 20;
const ROW = 13;
const GUTTER = 128;
const MIN_FRAME_PX = 0.5;
const MAX_FRAME_PX = 40;

/**
 * Runs of consecutive frames, as [first, last] pairs.
 * @param {number[]} frames ascending
 */
export function runsOf(frames) {
  /** @type {Array<[number, number]>} */
  const runs = [];
  for (const f of frames) {
    const last = runs[runs.length - 1];
    if (last && f === last[1] + 1) last[1] = f;
    else runs.push([f, f]);
  }
  return runs;
}

/**
 * @param {HTMLElement} element
 * @param {EditorModel} model
 * @param {EditorController} controller
 */
export function mountTimeline(element, model, controller) {
  const doc = element.ownerDocument;
  element.replaceChildren();
  const canvas = doc.createElement('canvas');
  canvas.dataset.testid = 'timeline-canvas';
  canvas.style.display = 'block';
  canvas.style.width = '100%';
  canvas.style.height = '100%';
  canvas.style.cursor = 'pointer';
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', 'Timeline of frames and tracks');
  element.append(canvas);
  const context = canvas.getContext('2d');
  if (!context) throw new Error('no 2D canvas');
  const ctx = context;

  const view = { firstFrame: 0, framePx: 0, scrollRow: 0, width: 1, height: 1 };
  /** @type {Array<{id: string, kind: 'track' | 'candidate', track: Track}>} */
  let rows = [];
  let scheduled = false;
  let scrubbing = false;

  /** @param {string} name */
  const color = (name) => getComputedStyle(element).getPropertyValue(`--${name}`).trim() || '#888';

  const rebuildRows = () => {
    /** @param {Map<string, Track>} tracks */
    const sorted = (tracks) =>
      [...tracks.entries()].sort((a, b) => a[1].first_frame - b[1].first_frame || Number(a[0]) - Number(b[0]));
    rows = [
      ...sorted(model.tracks).map(([id, track]) => ({ id, kind: /** @type {const} */ ('track'), track })),
      ...sorted(model.candidates).map(([id, track]) => ({ id, kind: /** @type {const} */ ('candidate'), track })),
    ];
  };

  // Where rows and frames are, for tests and tools that click the canvas.
  canvas.dataset.gutter = String(GUTTER);
  canvas.dataset.ruler = String(RULER);
  canvas.dataset.rowHeight = String(ROW);

  const fit = () => {
    const span = view.width - GUTTER;
    if (view.framePx === 0) view.framePx = Math.max(MIN_FRAME_PX, span / Math.max(model.frameCount, 1));
  };

  /** @param {number} frame */
  const xOf = (frame) => GUTTER + (frame - view.firstFrame) * view.framePx;
  /** @param {number} x */
  const frameAt = (x) => Math.floor(view.firstFrame + (x - GUTTER) / view.framePx);
  const visibleRows = () => Math.max(1, Math.floor((view.height - RULER) / ROW));

  const keepSelectionVisible = () => {
    const index = rows.findIndex((r) => r.id === model.selectedId);
    if (index < 0) return;
    if (index < view.scrollRow) view.scrollRow = index;
    else if (index >= view.scrollRow + visibleRows()) view.scrollRow = index - visibleRows() + 1;
  };

  const keepCursorVisible = () => {
    const span = (view.width - GUTTER) / view.framePx;
    const f = model.frameIndex;
    if (f < view.firstFrame) view.firstFrame = f;
    else if (f >= view.firstFrame + span) view.firstFrame = Math.max(0, f - span + 1);
  };

  const draw = () => {
    scheduled = false;
    const dpr = globalThis.devicePixelRatio || 1;
    view.width = Math.max(1, canvas.clientWidth);
    view.height = Math.max(1, canvas.clientHeight);
    if (canvas.width !== Math.round(view.width * dpr) || canvas.height !== Math.round(view.height * dpr)) {
      canvas.width = Math.round(view.width * dpr);
      canvas.height = Math.round(view.height * dpr);
    }
    fit();
    canvas.dataset.frames = String(model.frameCount);
    canvas.dataset.firstFrame = String(view.firstFrame);
    canvas.dataset.framePx = String(view.framePx);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, view.width, view.height);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    drawRuler();
    drawRows();
    const x = xOf(model.frameIndex) + view.framePx / 2;
    ctx.fillStyle = color('accent');
    ctx.fillRect(Math.round(x) - 1, 0, 2, view.height);
  };

  const drawRuler = () => {
    ctx.fillStyle = color('bg-inset');
    ctx.fillRect(0, 0, view.width, RULER);
    const step = [1, 5, 10, 25, 50, 100, 250, 500].find((s) => s * view.framePx >= 48) ?? 1000;
    ctx.fillStyle = color('text-faint');
    for (let f = Math.ceil(view.firstFrame / step) * step; xOf(f) < view.width; f += step) {
      ctx.fillRect(Math.round(xOf(f)), RULER - 5, 1, 5);
      ctx.fillText(String(f), xOf(f) + 3, RULER / 2 - 1);
    }
    ctx.fillStyle = color('flag');
    for (const frame of model.flaggedFrames().keys()) {
      const x = xOf(frame) + view.framePx / 2;
      if (x < GUTTER || x > view.width) continue;
      ctx.beginPath();
      ctx.moveTo(x - 4, 0);
      ctx.lineTo(x + 4, 0);
      ctx.lineTo(x, 7);
      ctx.fill();
    }
    ctx.fillStyle = color('text-muted');
    ctx.fillText(`${rows.length} tracks`, 6, RULER / 2);
  };

  const drawRows = () => {
    /** @type {Map<string, number[]>} */
    const flags = new Map();
    /** @type {Map<string, number[]>} proposed [first, last] per track */
    const lives = new Map();
    /** @type {Map<string, number[]>} weak ends per track */
    const weakEnds = new Map();
    for (const a of model.guidance) {
      if (a.kind === 'review_flag' && a.track_id) flags.set(a.track_id, [...(flags.get(a.track_id) ?? []), a.frame]);
      if (a.kind === 'accept_life' && a.track_id && a.life) lives.set(a.track_id, a.life);
      if (a.kind === 'check_end' && a.track_id) weakEnds.set(a.track_id, [...(weakEnds.get(a.track_id) ?? []), a.frame]);
    }
    // For tests and tools: which proposed lives the timeline shows.
    canvas.dataset.proposedLives = [...lives].map(([id, [first, last]]) => `${id}:${first}-${last}`).join(',');
    const end = Math.min(rows.length, view.scrollRow + visibleRows());
    for (let i = view.scrollRow; i < end; i += 1) {
      const { id, kind, track } = rows[i];
      const y = RULER + (i - view.scrollRow) * ROW;
      if (id === model.selectedId) {
        ctx.fillStyle = color('accent-bg');
        ctx.fillRect(0, y, view.width, ROW);
      }
      const status = kind === 'candidate' ? 'candidate' : track.stationary ? 'stationary' : 'confirmed';
      ctx.fillStyle = color(id === model.selectedId ? 'text' : 'text-muted');
      ctx.fillText(`${track.label} ${id}`.slice(0, 20), 6, y + ROW / 2);
      const frames = model.shapes.get(id)?.frames ?? [];
      ctx.save();
      ctx.beginPath();
      ctx.rect(GUTTER, y, view.width - GUTTER, ROW);
      ctx.clip();
      for (const [first, last] of runsOf(frames)) {
        const x0 = xOf(first);
        const w = Math.max(1, (last - first + 1) * view.framePx);
        if (kind === 'candidate') {
          ctx.fillStyle = color('candidate-bg');
          ctx.fillRect(x0, y + 3, w, ROW - 6);
          ctx.strokeStyle = color('candidate');
          ctx.setLineDash([3, 2]);
          ctx.strokeRect(x0 + 0.5, y + 3.5, w - 1, ROW - 7);
          ctx.setLineDash([]);
        } else {
          ctx.fillStyle = color(status);
          ctx.globalAlpha = track.stationary ? 0.9 : 0.55;
          ctx.fillRect(x0, y + (track.stationary ? 2 : 3), w, ROW - (track.stationary ? 4 : 6));
          ctx.globalAlpha = 1;
        }
      }
      if (!track.stationary && kind === 'track') {
        ctx.fillStyle = color('text');
        for (const key of Object.keys(track.keyframes)) {
          const cx = xOf(Number(key)) + view.framePx / 2;
          const r = Math.min(4, Math.max(2.5, view.framePx / 2));
          ctx.beginPath();
          ctx.moveTo(cx, y + ROW / 2 - r);
          ctx.lineTo(cx + r, y + ROW / 2);
          ctx.lineTo(cx, y + ROW / 2 + r);
          ctx.lineTo(cx - r, y + ROW / 2);
          ctx.fill();
        }
      }
      const life = kind === 'track' ? lives.get(id) : undefined;
      if (life) {
        ctx.strokeStyle = color('accent');
        ctx.setLineDash([4, 2]);
        ctx.strokeRect(xOf(life[0]) + 0.5, y + 1.5, Math.max(1, (life[1] - life[0] + 1) * view.framePx) - 1, ROW - 3);
        ctx.setLineDash([]);
      }
      ctx.fillStyle = color('flag');
      for (const f of flags.get(id) ?? []) ctx.fillRect(Math.round(xOf(f)), y + 1, Math.max(2, view.framePx), ROW - 2);
      for (const f of kind === 'track' ? (weakEnds.get(id) ?? []) : []) {
        ctx.fillRect(Math.round(xOf(f)), y, Math.max(2, view.framePx / 2), 4);
      }
      ctx.restore();
    }
  };

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(draw);
  };

  /** @param {MouseEvent} event */
  const pointer = (event) => {
    const rect = canvas.getBoundingClientRect();
    return { x: event.clientX - rect.left, y: event.clientY - rect.top };
  };

  canvas.addEventListener('pointerdown', (event) => {
    const { x, y } = pointer(event);
    if (x < GUTTER && y >= RULER) {
      const row = rows[view.scrollRow + Math.floor((y - RULER) / ROW)];
      if (row) controller.select(row.id);
      return;
    }
    if (x < GUTTER) return;
    const frame = frameAt(x);
    if (y < RULER) {
      scrubbing = true;
      canvas.setPointerCapture(event.pointerId);
    } else {
      const row = rows[view.scrollRow + Math.floor((y - RULER) / ROW)];
      controller.select(row ? row.id : null);
    }
    controller.goToFrame(frame);
  });
  canvas.addEventListener('pointermove', (event) => {
    if (scrubbing) controller.goToFrame(frameAt(pointer(event).x));
  });
  canvas.addEventListener('pointerup', () => {
    scrubbing = false;
  });
  canvas.addEventListener(
    'wheel',
    (event) => {
      event.preventDefault();
      if (event.ctrlKey || event.metaKey) {
        const { x } = pointer(event);
        const anchor = view.firstFrame + (x - GUTTER) / view.framePx;
        const zoom = event.deltaY < 0 ? 1.25 : 0.8;
        view.framePx = Math.min(MAX_FRAME_PX, Math.max(MIN_FRAME_PX, view.framePx * zoom));
        view.firstFrame = Math.max(0, anchor - (x - GUTTER) / view.framePx);
      } else if (event.shiftKey) {
        view.firstFrame = Math.max(0, view.firstFrame + (Math.sign(event.deltaY || event.deltaX) * 20) / view.framePx);
      } else {
        const max = Math.max(0, rows.length - visibleRows());
        view.scrollRow = Math.min(max, Math.max(0, view.scrollRow + Math.sign(event.deltaY) * 3));
      }
      schedule();
    },
    { passive: false },
  );

  model.on('tracks', () => {
    rebuildRows();
    schedule();
  });
  model.on('selection', () => {
    keepSelectionVisible();
    schedule();
  });
  model.on('frame', () => {
    keepCursorVisible();
    schedule();
  });
  model.on('guidance', schedule);
  new ResizeObserver(() => {
    view.framePx = 0;
    schedule();
  }).observe(element);
  rebuildRows();
  schedule();
}
