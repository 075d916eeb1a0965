import { describe, expect, it } from 'vitest';
import { miniMapView } from './CanvasMiniMap.js';

describe('miniMapView', () => {
  it('shows the nodes and the visible part of the flow, with a margin, at the minimap’s 4:3 ratio (margin aside)', () => {
    // Pane 1000×500 at zoom 1 showing flow x 0..1000, y 0..500; one node far right of it.
    const shown = miniMapView([{ x: 1500, y: 100, width: 500, height: 100 }], [0, 0, 1], 1000, 500);
    expect(shown.view).toEqual({ x: 0, y: 0, width: 1000, height: 500 });
    // Content spans x 0..2000 (wider than 4:3): 10 flow units per minimap pixel, plus 5 px of margin each side.
    expect(shown.viewScale).toBe(10);
    expect(shown.width).toBe(200 * 10 + 2 * 50);
    expect(shown.height).toBe(150 * 10 + 2 * 50);
    expect(shown.x).toBe(0 - 50);
    // Centred vertically: content 0..500 in a 1,500-unit-high box.
    expect(shown.y).toBe(0 - (1500 - 500) / 2 - 50);
  });

  it('follows pan and zoom: the view rectangle is the pane in flow coordinates', () => {
    // Translated by (-200, -100) at zoom 2: the pane's corner is flow point (100, 50).
    const shown = miniMapView([], [-200, -100, 2], 800, 600);
    expect(shown.view).toEqual({ x: 100, y: 50, width: 400, height: 300 });
    expect(shown.viewScale).toBe(2);
    expect(shown.x).toBe(100 - 10);
  });

  it('keeps the whole flow in the minimap when zoomed in on a corner of it', () => {
    const nodes = [
      { x: 0, y: 0, width: 200, height: 100 },
      { x: 5800, y: 2900, width: 200, height: 100 },
    ];
    const shown = miniMapView(nodes, [0, 0, 1], 1000, 500);
    expect(shown.x).toBeLessThanOrEqual(0);
    expect(shown.x + shown.width).toBeGreaterThanOrEqual(6000);
    expect(shown.y + shown.height).toBeGreaterThanOrEqual(3000);
    // 4:3 before the 5-pixel margin is added on each side.
    expect((shown.width - 10 * shown.viewScale) / (shown.height - 10 * shown.viewScale)).toBeCloseTo(200 / 150, 6);
  });
});
