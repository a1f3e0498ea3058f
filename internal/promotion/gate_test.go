package promotion

import (
	"strings"
	"testing"
	"time"
)

const commit = "3f2a9c1d7e5b4a6f8c0d2e4f6a8b0c1d3e5f7a9b"

func TestDecide(t *testing.T) {
	// A Wednesday, 12:00 UTC.
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	base := Input{From: "dev", To: "stage", Commit: commit, Compliant: true, CompliantSince: now.Add(-time.Hour), Mode: Automatic, Now: now}
	with := func(f func(*Input)) Input { in := base; f(&in); return in }
	mustWindow := func(days []time.Weekday, start, end string) Window {
		s, _ := ParseClock(start)
		e, _ := ParseClock(end)
		return Window{Days: days, Start: s, End: e}
	}
	tests := []struct {
		name    string
		in      Input
		open    bool
		done    bool
		message string
		recheck time.Duration
	}{
		{"compliant, automatic: open", base, true, false, "promoting 3f2a9c1d7e5b from dev to stage", 0},
		{"already there", with(func(in *Input) { in.Done = true }), false, true, "stage has 3f2a9c1d7e5b", 0},
		{"not compliant: what it waits for", with(func(in *Input) {
			in.Compliant = false
			in.Waiting = "1 of 2 dev clusters run 3f2a9c1d7e5b; fleet/drone-dev runs 9c01aa000000"
		}), false, false, "stage waits: 1 of 2 dev clusters run 3f2a9c1d7e5b; fleet/drone-dev runs 9c01aa000000", 0},
		{"no commit", with(func(in *Input) { in.Commit = "" }), false, false, "stage waits: dev runs no known commit yet", 0},
		{"baking", with(func(in *Input) { in.BakeTime = 90 * time.Minute }), false, false, "bake time: dev runs 3f2a9c1d7e5b everywhere since Wed 11:00 UTC; 1h30m0s required (until Wed 12:30 UTC)", 30 * time.Minute},
		{"compliant, time unknown: the bake time starts now", with(func(in *Input) { in.BakeTime = time.Hour; in.CompliantSince = time.Time{} }), false, false, "bake time: 1h0m0s of dev running", time.Hour},
		{"baked", with(func(in *Input) { in.BakeTime = 30 * time.Minute }), true, false, "promoting", 0},
		{"manual without approval", with(func(in *Input) { in.Mode = Manual }), false, false, "approval of 3f2a9c1d7e5b (tug promote approve stage)", 0},
		{"manual, with a hint how to approve", with(func(in *Input) { in.Mode = Manual; in.ApprovalHint = "set approved: true" }), false, false, "approval of 3f2a9c1d7e5b (set approved: true)", 0},
		{"manual, approval of another commit", with(func(in *Input) { in.Mode = Manual; in.Approved = "9c01aa0" }), false, false, "approval of", 0},
		{"manual, too short a prefix", with(func(in *Input) { in.Mode = Manual; in.Approved = "3f2a" }), false, false, "approval of", 0},
		{"manual, approved", with(func(in *Input) { in.Mode = Manual; in.Approved = "3f2a9c1" }), true, false, "promoting", 0},
		{"manual, approved but not compliant", with(func(in *Input) { in.Mode = Manual; in.Approved = commit; in.Compliant = false }), false, false, "stage waits: dev does not run", 0},
		{"inside a window", with(func(in *Input) { in.Windows = []Window{mustWindow([]time.Weekday{time.Wednesday}, "09:00", "17:00")} }), true, false, "promoting", 0},
		{"outside a window", with(func(in *Input) { in.Windows = []Window{mustWindow(nil, "14:00", "15:00")} }), false, false, "the next promotion window (daily 14:00-15:00 UTC), opening Wed 14:00 UTC", 2 * time.Hour},
		{"window on other days", with(func(in *Input) {
			in.Windows = []Window{mustWindow([]time.Weekday{time.Friday, time.Monday}, "09:00", "17:00")}
		}), false, false, "(Mon,Fri 09:00-17:00 UTC), opening Fri 09:00 UTC", 45 * time.Hour},
		{"window spanning midnight, open on the next morning", with(func(in *Input) {
			in.Now = time.Date(2026, 12, 3, 1, 0, 0, 0, time.UTC) // Thursday 01:00
			in.Windows = []Window{mustWindow([]time.Weekday{time.Wednesday}, "22:00", "02:00")}
		}), true, false, "promoting", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(tc.in)
			if d.Open != tc.open || d.Done != tc.done || !strings.Contains(d.Message, tc.message) || d.RecheckAfter != tc.recheck {
				t.Fatalf("Decide = %+v; want open %v done %v message containing %q recheck %s", d, tc.open, tc.done, tc.message, tc.recheck)
			}
		})
	}
}

func TestParse(t *testing.T) {
	if d, err := ParseClock("09:30"); err != nil || d != 9*time.Hour+30*time.Minute {
		t.Fatalf("ParseClock = %s, %v", d, err)
	}
	if _, err := ParseClock("25:00"); err == nil {
		t.Fatal("25:00 parsed")
	}
	if d, err := ParseWeekday("Fri"); err != nil || d != time.Friday {
		t.Fatalf("ParseWeekday = %s, %v", d, err)
	}
}

// Decision.Blocked names the check that holds the commit back, in the gate's order.
func TestDecideBlocked(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	closed, _ := ParseClock("14:00")
	end, _ := ParseClock("15:00")
	base := Input{From: "dev", To: "prod", Commit: commit, Compliant: true, CompliantSince: now, Mode: Automatic, Now: now}
	tests := []struct {
		name string
		f    func(*Input)
		want Check
	}{
		{"open", func(*Input) {}, ""},
		{"no commit", func(in *Input) { in.Commit = "" }, CheckCommit},
		{"not compliant", func(in *Input) { in.Compliant = false }, CheckCompliance},
		{"baking", func(in *Input) { in.BakeTime = time.Hour }, CheckBakeTime},
		{"approval", func(in *Input) { in.Mode = Manual }, CheckApproval},
		{"window", func(in *Input) { in.Windows = []Window{{Start: closed, End: end}} }, CheckWindow},
		{"done", func(in *Input) { in.Done = true }, ""},
	}
	for _, tc := range tests {
		in := base
		tc.f(&in)
		if d := Decide(in); d.Blocked != tc.want {
			t.Errorf("%s: Blocked = %q, want %q (%s)", tc.name, d.Blocked, tc.want, d.Message)
		}
	}
}

// dailyAt is a Schedule firing every day at a time (UTC).
type dailyAt time.Duration

func (d dailyAt) Next(t time.Time) time.Time {
	t = t.UTC()
	at := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).Add(time.Duration(d))
	if !at.After(t) {
		at = at.Add(24 * time.Hour)
	}
	return at
}

// Scheduled windows (opening and closing times, as cron gives them) gate like
// daily windows: open between an opening and the next closing.
func TestDecideScheduledWindows(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC) // Wednesday
	window := func(from, to time.Duration) ScheduledWindow {
		return ScheduledWindow{From: dailyAt(from), To: dailyAt(to), Description: "from " + clock(from) + " to " + clock(to)}
	}
	tests := []struct {
		name    string
		now     time.Time
		windows []ScheduledWindow
		open    bool
		message string
		recheck time.Duration
	}{
		{"inside", now, []ScheduledWindow{window(9*time.Hour, 17*time.Hour)}, true, "promoting", 0},
		{"before it opens", now, []ScheduledWindow{window(14*time.Hour, 15*time.Hour)}, false, "the next promotion window (from 14:00 to 15:00), opening Wed 14:00 UTC", 2 * time.Hour},
		{"after it closed", now, []ScheduledWindow{window(9*time.Hour, 10*time.Hour)}, false, "opening Thu 09:00 UTC", 21 * time.Hour},
		{"spanning midnight", time.Date(2026, 12, 3, 1, 0, 0, 0, time.UTC), []ScheduledWindow{window(22*time.Hour, 2*time.Hour)}, true, "promoting", 0},
		{"one of two open", now, []ScheduledWindow{window(14*time.Hour, 15*time.Hour), window(11*time.Hour, 13*time.Hour)}, true, "promoting", 0},
	}
	for _, tc := range tests {
		in := Input{From: "dev", To: "prod", Commit: commit, Compliant: true, CompliantSince: tc.now, Mode: Automatic, Now: tc.now, ScheduledWindows: tc.windows}
		d := Decide(in)
		if d.Open != tc.open || !strings.Contains(d.Message, tc.message) || d.RecheckAfter != tc.recheck {
			t.Errorf("%s: %+v; want open %v, message containing %q, recheck %s", tc.name, d, tc.open, tc.message, tc.recheck)
		}
	}
}
