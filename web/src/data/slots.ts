/**
 * Slots for a virtualised list: which element shows which item. An item that stays in view
 * keeps its slot (its element), so reordering the items in view moves elements without
 * rewriting them, and scrolling by one item rewrites one element; items new to the view take
 * the slots of those that left, in order, and any beyond them are added at the end. Slots left
 * empty (fewer items than before) are dropped, moving the later ones up.
 *
 * Returns the new slots: the keys of `keys`, each once, in slot order.
 */
export function placeInSlots(slots: readonly string[], keys: readonly string[]): string[] {
  const wanted = new Set(keys);
  const placed: Array<string | undefined> = slots.map((key) => (wanted.has(key) ? key : undefined));
  const kept = new Set(placed);
  let free = 0;
  for (const key of keys) {
    if (kept.has(key)) continue;
    while (free < placed.length && placed[free] !== undefined) free++;
    if (free < placed.length) placed[free] = key;
    else placed.push(key);
  }
  return placed.filter((key): key is string => key !== undefined);
}
