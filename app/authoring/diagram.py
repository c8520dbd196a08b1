"""The node graph of a scenario as inline SVG geometry (computed here, drawn by a template).

Layered layout: each node's row is its breadth-first depth from the start node; the endings
used share the last row. Edges are labelled with the outcomes that take them (deescalate,
stay, escalate); forward edges run down, edges back up or sideways curve around the left,
a node's edge to itself is a loop on its right. No external libraries, no scripts.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from content_schema.models import ENDINGS, OUTCOMES

NODE_W, NODE_H = 150, 46
H_GAP, V_GAP = 44, 96
MARGIN = 24
LOOP = 46  # room on the right for self-loops
MAX_LABEL = 18


def _short(text: str, limit: int = MAX_LABEL) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def layout(document: Mapping[str, Any]) -> dict:
    """``document``: a scenario with ``start`` and ``nodes`` {id: {anger, line, next}}."""
    nodes: Mapping[str, Any] = document.get("nodes") or {}
    start = document.get("start")
    depth: dict[str, int] = {}
    if start in nodes:
        depth[start] = 0
        queue = deque([start])
        while queue:
            current = queue.popleft()
            for outcome in OUTCOMES:
                target = (nodes[current].get("next") or {}).get(outcome)
                if target in nodes and target not in depth:
                    depth[target] = depth[current] + 1
                    queue.append(target)
    deepest = max(depth.values(), default=-1)
    for node_id in nodes:  # unreachable nodes (not in a valid scenario) get a row of their own
        if node_id not in depth:
            depth[node_id] = deepest + 1
    deepest = max(depth.values(), default=-1)
    used_endings = [ending for ending in ENDINGS
                    if any(target == ending for node in nodes.values() for target in (node.get("next") or {}).values())]
    layers: list[list[str]] = [[] for _ in range(deepest + 2)]
    for node_id in nodes:
        layers[depth[node_id]].append(node_id)
    layers[deepest + 1] = list(used_endings)
    layers = [layer for layer in layers if layer]
    _order_by_parents(layers, nodes)

    widest = max((len(layer) for layer in layers), default=1)
    width = MARGIN * 2 + LOOP + widest * NODE_W + (widest - 1) * H_GAP + 60
    height = MARGIN * 2 + len(layers) * NODE_H + (len(layers) - 1) * V_GAP
    boxes: dict[str, dict] = {}
    for row, layer in enumerate(layers):
        span = len(layer) * NODE_W + (len(layer) - 1) * H_GAP
        left = (width - LOOP - span) / 2 + 30
        for column, node_id in enumerate(layer):
            x = round(left + column * (NODE_W + H_GAP), 1)
            y = MARGIN + row * (NODE_H + V_GAP)
            if node_id in nodes:
                node = nodes[node_id]
                classes = "node start" if node_id == start else "node"
                boxes[node_id] = {"id": node_id, "x": x, "y": y, "w": NODE_W, "h": NODE_H, "row": row,
                                  "label": _short(node_id), "sub": f"{node.get('anger', '')}",
                                  "title": f"{node_id}: {node.get('line', '')}", "cls": classes, "ending": False}
            else:
                name = node_id.removeprefix("end:")
                boxes[node_id] = {"id": node_id, "x": x, "y": y, "w": NODE_W, "h": NODE_H, "row": row,
                                  "label": node_id, "sub": "", "title": node_id, "cls": f"ending ending-{name}",
                                  "ending": True}

    edges = []
    for node_id, node in nodes.items():
        by_target: dict[str, list[str]] = {}
        for outcome in OUTCOMES:
            target = (node.get("next") or {}).get(outcome)
            if target in boxes:
                by_target.setdefault(target, []).append(outcome)
        source = boxes[node_id]
        for index, (target, outcomes) in enumerate(by_target.items()):
            edges.append(_edge(source, boxes[target], outcomes, index, len(by_target)))
    # The view box covers every box, curve and label (back edges bulge out to the left).
    left_edge = min([box["x"] for box in boxes.values()] + [edge["xmin"] for edge in edges] + [0]) - MARGIN
    right_edge = max([box["x"] + box["w"] for box in boxes.values()] + [edge["xmax"] for edge in edges]
                     + [width - MARGIN]) + MARGIN
    view_width = round(right_edge - left_edge)
    return {"width": view_width, "height": round(height),
            "view_box": f"{round(left_edge)} 0 {view_width} {round(height)}",
            "nodes": list(boxes.values()), "edges": edges}


def _order_by_parents(layers: list[list[str]], nodes: Mapping[str, Any]) -> None:
    """One barycentre pass: each row ordered by where its parents sit in the rows above (fewer crossings)."""
    column: dict[str, float] = {node_id: index for index, node_id in enumerate(layers[0])}
    for row in layers[1:]:
        def centre(node_id: str, fallback: int) -> float:
            parents = [column[source] for source, node in nodes.items() if source in column
                       and node_id in (node.get("next") or {}).values()]
            return sum(parents) / len(parents) if parents else fallback
        before = {node_id: index for index, node_id in enumerate(row)}
        row.sort(key=lambda node_id: (centre(node_id, before[node_id]), before[node_id]))
        offset = (len(row) - 1) / 2
        for index, node_id in enumerate(row):
            column[node_id] = index - offset + max(len(layer) for layer in layers) / 2


def _edge(source: dict, target: dict, outcomes: list[str], index: int, count: int) -> dict:
    label = "/".join(outcomes)
    cls = "edge " + " ".join(f"edge-{outcome}" for outcome in outcomes)
    sx, sy, sw, sh = source["x"], source["y"], source["w"], source["h"]
    tx, ty, tw, th = target["x"], target["y"], target["w"], target["h"]
    if source is target:  # a loop on the right side
        x0, y0 = sx + sw, sy + sh * 0.3
        x1, y1 = sx + sw, sy + sh * 0.7
        d = f"M{x0},{y0} C{x0 + LOOP},{y0 - 24} {x1 + LOOP},{y1 + 24} {x1},{y1}"
        lx = round(x0 + LOOP - 4, 1)
        return {"d": d, "label": label, "lx": lx, "ly": round(sy + sh / 2 + 4, 1),
                "cls": cls, "anchor": "start", "outcomes": outcomes, "target": target["id"],
                "xmin": x0, "xmax": lx + 7 * len(label)}
    if target["row"] > source["row"]:  # forward: bottom to top, spread across the source's bottom edge
        x0 = round(sx + sw * (index + 1) / (count + 1), 1)
        y0 = sy + sh
        x1, y1 = round(tx + tw / 2, 1), ty
        middle = (y0 + y1) / 2
        d = f"M{x0},{y0} C{x0},{middle} {x1},{middle} {x1},{y1}"
        # Labels sit on the curve near the source, where edges into one node have not met yet;
        # siblings alternate between two heights so their labels do not run together.
        t = 0.2 + 0.2 * (index % 2)
        lx = (1 - t) ** 3 * x0 + 3 * (1 - t) ** 2 * t * x0 + 3 * (1 - t) * t ** 2 * x1 + t ** 3 * x1
        ly = (1 - t) ** 3 * y0 + 3 * (1 - t) ** 2 * t * middle + 3 * (1 - t) * t ** 2 * middle + t ** 3 * y1
        half = 3.5 * len(label)
        return {"d": d, "label": label, "lx": round(lx, 1), "ly": round(ly + 4, 1), "cls": cls,
                "anchor": "middle", "outcomes": outcomes, "target": target["id"],
                "xmin": min(x0, x1, lx - half), "xmax": max(x0, x1, lx + half)}
    if target["row"] == source["row"]:  # sideways: an arc above the row, higher the further it goes
        x0 = round(sx + sw * (index + 1) / (count + 1), 1)
        x1 = round(tx + tw / 2, 1)
        lift = 26 + 0.12 * abs(x1 - x0)
        top = sy - lift
        d = f"M{x0},{sy} C{x0},{top} {x1},{top} {x1},{ty}"
        return {"d": d, "label": label, "lx": round((x0 + x1) / 2, 1), "ly": round(sy - lift * 0.75 - 3, 1),
                "cls": cls + " edge-side", "anchor": "middle", "outcomes": outcomes, "target": target["id"],
                "xmin": min(x0, x1), "xmax": max(x0, x1)}
    # back up or sideways: leave from the left side, curve out to the left, enter the target's left side
    x0, y0 = sx, round(sy + sh * (index + 1) / (count + 1), 1)
    x1, y1 = tx, round(ty + th / 2, 1)
    bend = 40 + 18 * abs(source["row"] - target["row"])
    cx = min(x0, x1) - bend
    d = f"M{x0},{y0} C{cx},{y0} {cx},{y1} {x1},{y1}"
    lx = round(cx + bend * 0.25 - 2, 1)
    return {"d": d, "label": label, "lx": lx, "ly": round((y0 + y1) / 2, 1),
            "cls": cls + " edge-back", "anchor": "end", "outcomes": outcomes, "target": target["id"],
            "xmin": min(cx, lx - 7 * len(label)), "xmax": max(x0, x1)}
