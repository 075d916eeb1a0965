import { Panel, useReactFlow, useStoreApi, type ReactFlowState } from '@xyflow/react';
import { useEffect, useRef, type PointerEvent } from 'react';

/** Same size, margin around the content and colours (xyflow's `--xy-minimap-*` variables) as xyflow's `MiniMap`. */
const WIDTH = 200;
const HEIGHT = 150;
const OFFSET_SCALE = 5;
const NODE_RADIUS = 5;

export interface MiniMapColors {
  node: string;
  mask: string;
  maskStroke: string;
  maskStrokeWidth: number;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * What the minimap shows, in flow coordinates: the nodes and the visible part of the flow,
 * with a margin, stretched to the minimap's aspect ratio (as xyflow's `MiniMap` computes it).
 */
export function miniMapView(nodes: readonly Rect[], transform: readonly [number, number, number], paneWidth: number, paneHeight: number) {
  const [tx, ty, zoom] = transform;
  const view: Rect = { x: 0 - tx / zoom, y: 0 - ty / zoom, width: paneWidth / zoom, height: paneHeight / zoom };
  let minX = view.x;
  let minY = view.y;
  let maxX = view.x + view.width;
  let maxY = view.y + view.height;
  for (const r of nodes) {
    minX = Math.min(minX, r.x);
    minY = Math.min(minY, r.y);
    maxX = Math.max(maxX, r.x + r.width);
    maxY = Math.max(maxY, r.y + r.height);
  }
  const bounds = { width: maxX - minX, height: maxY - minY };
  const viewScale = Math.max(bounds.width / WIDTH, bounds.height / HEIGHT);
  const offset = OFFSET_SCALE * viewScale;
  const x = minX - (viewScale * WIDTH - bounds.width) / 2 - offset;
  const y = minY - (viewScale * HEIGHT - bounds.height) / 2 - offset;
  return { view, viewScale, x, y, width: viewScale * WIDTH + 2 * offset, height: viewScale * HEIGHT + 2 * offset };
}

/** Visible, measured nodes as absolute rectangles, in the flow's paint order. */
function nodeRects(state: ReactFlowState): Rect[] {
  const rects: Rect[] = [];
  for (const node of state.nodeLookup.values()) {
    if (node.hidden) continue;
    const width = node.measured.width ?? node.width ?? node.initialWidth;
    const height = node.measured.height ?? node.height ?? node.initialHeight;
    if (!width || !height) continue;
    rects.push({ x: node.internals.positionAbsolute.x, y: node.internals.positionAbsolute.y, width, height });
  }
  return rects;
}

function readColors(element: Element): MiniMapColors {
  const style = getComputedStyle(element);
  const variable = (name: string) => style.getPropertyValue(`--xy-minimap-${name}`).trim() || style.getPropertyValue(`--xy-minimap-${name}-default`).trim();
  return {
    node: variable('node-background-color'),
    mask: variable('mask-background-color'),
    maskStroke: variable('mask-stroke-color'),
    maskStrokeWidth: Number(variable('mask-stroke-width')) || 0,
  };
}

/**
 * The minimap, drawn on a canvas: xyflow's `MiniMap` is an SVG of one `<rect>` per node, each
 * with its own store subscription, and it recomputes the bounds of every node on each viewport
 * change; at 500 nodes that was ~10 ms of JavaScript and a re-raster of 500 rects per pan/zoom
 * frame (bench/web/README.md). This one subscribes once, redraws at most once per task, and
 * React never renders it after mounting. Pannable (drag) and zoomable (wheel) as xyflow's.
 */
export function CanvasMiniMap() {
  const store = useStoreApi();
  const flow = useReactFlow();
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const scaleRef = useRef(1);

  useEffect(() => {
    const canvas = canvasRef.current;
    const context = canvas?.getContext('2d');
    if (!canvas || !context) return;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(WIDTH * dpr);
    canvas.height = Math.round(HEIGHT * dpr);
    let colors = readColors(canvas);
    let queued = false;

    const draw = () => {
      queued = false;
      const state = store.getState();
      const rects = nodeRects(state);
      const shown = miniMapView(rects, state.transform, state.width, state.height);
      scaleRef.current = shown.viewScale;
      // Fitted and centred as an SVG viewBox is (xyflow's minimap: preserveAspectRatio "xMidYMid meet").
      const fit = Math.min(WIDTH / shown.width, HEIGHT / shown.height);
      const left = (WIDTH - shown.width * fit) / 2;
      const top = (HEIGHT - shown.height * fit) / 2;
      // Device pixels, edges rounded to whole pixels: xyflow draws its minimap with
      // shape-rendering: crispEdges in Chromium, so rects are sharp, not antialiased.
      const px = (flowX: number) => Math.round(((flowX - shown.x) * fit + left) * dpr);
      const py = (flowY: number) => Math.round(((flowY - shown.y) * fit + top) * dpr);
      context.setTransform(1, 0, 0, 1, 0, 0);
      context.clearRect(0, 0, canvas.width, canvas.height);
      context.fillStyle = colors.node;
      const radius = NODE_RADIUS * fit * dpr;
      context.beginPath();
      for (const r of rects) {
        const x = px(r.x);
        const y = py(r.y);
        const width = px(r.x + r.width) - x;
        const height = py(r.y + r.height) - y;
        if (width <= 0 || height <= 0) continue;
        if (radius >= 1) context.roundRect(x, y, width, height, radius);
        else context.rect(x, y, width, height);
      }
      context.fill();
      // The mask: everything but the visible part of the flow.
      const view = { x: px(shown.view.x), y: py(shown.view.y), width: px(shown.view.x + shown.view.width) - px(shown.view.x), height: py(shown.view.y + shown.view.height) - py(shown.view.y) };
      context.beginPath();
      context.rect(0, 0, canvas.width, canvas.height);
      context.rect(view.x, view.y, view.width, view.height);
      context.fillStyle = colors.mask;
      context.fill('evenodd');
      if (colors.maskStrokeWidth > 0 && colors.maskStroke !== 'transparent') {
        context.strokeStyle = colors.maskStroke;
        context.lineWidth = colors.maskStrokeWidth * dpr;
        context.strokeRect(view.x, view.y, view.width, view.height);
      }
    };
    // Several store updates in one task (a pan step, a measure) draw once, before the frame is painted.
    const schedule = () => {
      if (queued) return;
      queued = true;
      queueMicrotask(draw);
    };
    const unsubscribe = store.subscribe(schedule);
    // The theme changes the minimap's colours (App sets data-theme on <html>).
    const themeObserver = new MutationObserver(() => {
      colors = readColors(canvas);
      schedule();
    });
    themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme', 'class'] });
    draw();

    // Wheel zooms the canvas around its centre (as xyflow's MiniMap); not passive, so the page does not scroll.
    const onWheel = (event: WheelEvent) => {
      event.preventDefault();
      const zoom = store.getState().transform[2];
      const delta = -event.deltaY * (event.deltaMode === 1 ? 0.05 : event.deltaMode ? 1 : 0.002);
      void flow.zoomTo(zoom * Math.pow(2, delta));
    };
    canvas.addEventListener('wheel', onWheel, { passive: false });
    return () => {
      unsubscribe();
      themeObserver.disconnect();
      canvas.removeEventListener('wheel', onWheel);
    };
  }, [store, flow]);

  // Dragging on the minimap pans the canvas: a pixel here is `viewScale` flow units.
  const dragFrom = useRef<{ x: number; y: number } | null>(null);
  const onPointerDown = (event: PointerEvent<HTMLCanvasElement>) => {
    if (event.button !== 0) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    dragFrom.current = { x: event.clientX, y: event.clientY };
  };
  const onPointerMove = (event: PointerEvent<HTMLCanvasElement>) => {
    const from = dragFrom.current;
    if (!from) return;
    dragFrom.current = { x: event.clientX, y: event.clientY };
    const [x, y, zoom] = store.getState().transform;
    const step = scaleRef.current * zoom;
    void flow.setViewport({ x: x - (event.clientX - from.x) * step, y: y - (event.clientY - from.y) * step, zoom });
  };
  const onPointerUp = () => {
    dragFrom.current = null;
  };

  return (
    <Panel position="bottom-right" className="react-flow__minimap loom-minimap" data-testid="rf__minimap">
      <canvas
        ref={canvasRef}
        className="loom-minimap-canvas"
        style={{ width: WIDTH, height: HEIGHT }}
        role="img"
        aria-label="Mini map"
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
      />
    </Panel>
  );
}
