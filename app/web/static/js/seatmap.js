// The cabin drawn as a grid of seat buttons: rows × letters with the aisle(s), one tab stop for the
// whole map (arrow keys move between seats: the "roving tabindex" pattern), Enter/Space picks.
import { h, clear } from "./dom.js";

/** The seat letters of a row split into blocks between aisles, as common cabins are laid out. */
export function cabinBlocks(letters) {
  const l = [...letters];
  const sizes = {
    1: [1], 2: [1, 1], 3: [1, 2], 4: [2, 2], 5: [2, 3], 6: [3, 3], 7: [2, 3, 2], 8: [2, 4, 2], 9: [3, 3, 3], 10: [3, 4, 3],
  }[l.length] || [l.length];
  const blocks = [];
  let i = 0;
  for (const size of sizes) {
    blocks.push(l.slice(i, i + size).join(""));
    i += size;
  }
  return blocks;
}

/** "window", "aisle" or "middle" for a letter of the row. */
export function seatPosition(letter, letters) {
  const l = [...letters];
  const index = l.indexOf(letter);
  if (index === 0 || index === l.length - 1) return "window";
  let start = 0;
  for (const block of cabinBlocks(letters)) {
    const end = start + block.length - 1;
    if (index === start || index === end) return "aisle";
    start = end + 1;
  }
  return "middle";
}

const STATE_WORDS = { available: "available", selected: "selected", held: "held for you", taken: "taken" };

export function seatName(seat, position, state) {
  return `Seat ${seat}, ${position}, ${STATE_WORDS[state]}`;
}

/**
 * A seat map widget. `onPick(seat)` is called when a seat button is activated (also for taken or
 * locked seats, so the page can explain why nothing happens). `stateOf(seat)` says how to draw it.
 */
export class SeatMap {
  constructor(container, { label, onPick, stateOf, describedBy }) {
    this.container = container;
    this.label = label;
    this.onPick = onPick;
    this.stateOf = stateOf;
    this.describedBy = describedBy;
    this.buttons = new Map();
    this.grid = [];
    this.active = null;
    this.locked = false;
    this.layout = null;
  }

  /** Draw `map` (the API's seat map). Keeps the focused seat focused across redraws. */
  render(map) {
    const layoutKey = `${map.rows}|${map.seat_letters}`;
    if (this.layout !== layoutKey) this.build(map);
    for (const seat of map.seats) this.update(seat.seat);
  }

  build(map) {
    const hadFocus = this.container.contains(document.activeElement);
    const letters = map.seat_letters;
    const blocks = cabinBlocks(letters);
    this.buttons.clear();
    this.grid = [];
    const header = h("div", { class: "cabin-row cabin-head", "aria-hidden": "true" }, h("span", { class: "row-label" }));
    blocks.forEach((block, b) => {
      if (b > 0) header.append(h("span", { class: "aisle" }));
      for (const letter of block) header.append(h("span", { class: "col-label" }, letter));
    });
    const rows = [header];
    for (let row = 1; row <= map.rows; row += 1) {
      const line = h("div", { class: "cabin-row", role: "group", "aria-label": `Row ${row}` },
        h("span", { class: "row-label", "aria-hidden": "true" }, row));
      const buttons = [];
      blocks.forEach((block, b) => {
        if (b > 0) line.append(h("span", { class: "aisle", "aria-hidden": "true" }));
        for (const letter of block) {
          const seat = `${row}${letter}`;
          const button = h("button", {
            type: "button",
            class: "seat",
            tabindex: "-1",
            "data-seat": seat,
            "data-position": seatPosition(letter, letters),
            "aria-describedby": this.describedBy,
            onclick: () => this.pick(seat),
            onkeydown: (event) => this.key(event, seat),
            onfocus: () => this.setActive(seat),
          });
          this.buttons.set(seat, button);
          buttons.push(seat);
          line.append(button);
        }
      });
      this.grid.push(buttons);
      rows.push(line);
    }
    clear(this.container, h("div", { class: `cabin-grid cols-${[...letters].length}`, role: "group", "aria-label": this.label }, rows));
    this.layout = `${map.rows}|${map.seat_letters}`;
    const first = map.seats.find((s) => s.available) || map.seats[0];
    this.setActive(this.buttons.has(this.active) ? this.active : first && first.seat);
    if (hadFocus && this.active) this.buttons.get(this.active).focus();
  }

  update(seat) {
    const button = this.buttons.get(seat);
    if (!button) return;
    const state = this.stateOf(seat);
    const position = button.dataset.position;
    button.className = `seat is-${state}${this.locked ? " is-locked" : ""}`;
    button.setAttribute("aria-label", seatName(seat, position, state));
    button.textContent = state === "taken" ? "\u2715" : state === "available" ? seat.slice(-1) : "\u2713";
    button.setAttribute("aria-pressed", String(state === "selected" || state === "held"));
    const unavailable = state === "taken" || (this.locked && state !== "held");
    if (unavailable) button.setAttribute("aria-disabled", "true");
    else button.removeAttribute("aria-disabled");
  }

  refresh() {
    for (const seat of this.buttons.keys()) this.update(seat);
  }

  setLocked(locked) {
    this.locked = locked;
    this.refresh();
  }

  setActive(seat) {
    if (!seat || !this.buttons.has(seat)) return;
    if (this.active && this.buttons.has(this.active)) this.buttons.get(this.active).tabIndex = -1;
    this.active = seat;
    this.buttons.get(seat).tabIndex = 0;
  }

  focusSeat(seat) {
    this.setActive(seat);
    const button = this.buttons.get(seat);
    if (button) button.focus();
  }

  pick(seat) {
    this.setActive(seat);
    this.onPick(seat);
  }

  key(event, seat) {
    let r = this.grid.findIndex((row) => row.includes(seat));
    let c = this.grid[r].indexOf(seat);
    switch (event.key) {
      case "ArrowRight": c = Math.min(c + 1, this.grid[r].length - 1); break;
      case "ArrowLeft": c = Math.max(c - 1, 0); break;
      case "ArrowDown": r = Math.min(r + 1, this.grid.length - 1); break;
      case "ArrowUp": r = Math.max(r - 1, 0); break;
      case "Home": c = 0; if (event.ctrlKey) r = 0; break;
      case "End": c = this.grid[r].length - 1; if (event.ctrlKey) r = this.grid.length - 1; break;
      case "PageDown": r = Math.min(r + 5, this.grid.length - 1); break;
      case "PageUp": r = Math.max(r - 5, 0); break;
      default: return;
    }
    event.preventDefault();
    this.focusSeat(this.grid[r][c]);
  }
}
