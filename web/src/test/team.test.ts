import { weeklyActivity } from "../lib/team";

describe("team activity", () => {
  it("takes the server's weekly counts as rows, newest first, with every user and the totals", () => {
    const got = weeklyActivity({
      since: null,
      weeks: [
        { week_start: 100, users: { bob: { runs: 1, seconds: 5, failed: 1 } } },
        { week_start: 200, users: { ana: { runs: 2, seconds: 10.5, failed: 0 }, bob: { runs: 1, seconds: 1, failed: 0 } } },
      ],
    });
    expect(got.weeks.map((w) => w.week)).toEqual([200, 100]);
    expect(got.users).toEqual(["ana", "bob"]);
    expect([got.runs, got.seconds]).toEqual([4, 16.5]);
    expect(got.weeks[0].byUser.ana).toEqual({ runs: 2, seconds: 10.5, failed: 0 });
  });
});
