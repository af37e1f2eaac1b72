import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { GroupCommit } from "../lib/sessions/group_commit.ts";

/** A GroupCommit over strings that records each group and can be told to fail one. */
function recorder(options: { maxItems: number; maxKeys?: number; failGroup?: number }) {
  const groups: string[][] = [];
  const writer = new GroupCommit<string, string>(async (items) => {
    groups.push(items);
    await Promise.resolve(); // stands for the durable write
    if (groups.length === options.failGroup) throw new Error(`group ${groups.length} failed`);
    return items.map((item) => item.toUpperCase());
  }, {
    maxItems: options.maxItems,
    maxKeys: options.maxKeys,
    keyOf: options.maxKeys === undefined ? undefined : (item) => item[0],
  });
  return { groups, writer };
}

Deno.test("GroupCommit: a lone item is committed at once, alone", async () => {
  const { groups, writer } = recorder({ maxItems: 10 });
  assertEquals(await writer.submit("a"), "A");
  assertEquals(groups, [["a"]]);
});

Deno.test("GroupCommit: items arriving during a commit go together in the next", async () => {
  const { groups, writer } = recorder({ maxItems: 10 });
  const results = await Promise.all(["a", "b", "c", "d"].map((item) => writer.submit(item)));
  assertEquals(results, ["A", "B", "C", "D"]);
  assertEquals(groups, [["a"], ["b", "c", "d"]]);
});

Deno.test("GroupCommit: a group holds at most maxItems items, in arrival order", async () => {
  const { groups, writer } = recorder({ maxItems: 2 });
  await Promise.all(["a", "b", "c", "d", "e", "f"].map((item) => writer.submit(item)));
  assertEquals(groups, [["a"], ["b", "c"], ["d", "e"], ["f"]]);
});

Deno.test("GroupCommit: a group touches at most maxKeys keys", async () => {
  const { groups, writer } = recorder({ maxItems: 100, maxKeys: 2 });
  // Keys are first letters: x, x, y, x, z, z, y → groups end where a third key would start.
  const items = ["x0", "x1", "y0", "x2", "z0", "z1", "y1"];
  await Promise.all(items.map((item) => writer.submit(item)));
  assertEquals(groups, [["x0"], ["x1", "y0", "x2"], ["z0", "z1", "y1"]]);
});

Deno.test("GroupCommit: a failed commit rejects its own group only", async () => {
  const { groups, writer } = recorder({ maxItems: 10, failGroup: 2 });
  const first = writer.submit("a");
  const failed = [writer.submit("b"), writer.submit("c")];
  assertEquals(await first, "A");
  for (const promise of failed) await assertRejects(() => promise, Error, "group 2 failed");
  assertEquals(await writer.submit("d"), "D", "the writer goes on after a failure");
  assertEquals(groups, [["a"], ["b", "c"], ["d"]]);
});

Deno.test("GroupCommit: limits below one are refused", () => {
  const commit = (items: string[]) => Promise.resolve(items);
  assertThrows(() => new GroupCommit(commit, { maxItems: 0 }), RangeError);
  assertThrows(
    () => new GroupCommit(commit, { maxItems: 1, maxKeys: 0, keyOf: (s: string) => s }),
    RangeError,
  );
  assertThrows(() => new GroupCommit(commit, { maxItems: 1, maxKeys: 1 }), TypeError);
});

Deno.test("GroupCommit: a commit answering too few or too many results rejects its group", async () => {
  for (const extra of [-1, 1]) {
    const writer = new GroupCommit<string, string>(async (items) => {
      await Promise.resolve();
      return extra < 0 ? items.slice(1) : [...items, "extra"];
    }, { maxItems: 10 });
    const group = [writer.submit("a"), writer.submit("b"), writer.submit("c")];
    for (const promise of group) {
      await assertRejects(() => promise, Error, "results for");
    }
  }
});
