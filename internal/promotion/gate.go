// Package promotion decides whether a commit may move from one stage of a
// delivery pipeline to the next: a pure gate engine (inputs in, decision out, no
// clock or client of its own), so that environment promotion (the scheduler's
// Environments) and a stage-by-stage rollout of a profile can share it.
//
// The gate checks, in order: the next stage already has the commit (done); the
// current stage runs the commit everywhere (compliance, with what it waits for);
// the bake time; the approval (manual mode); the windows. The first check that
// holds the commit back is the message.
package promotion

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Mode is when the gate opens.
type Mode string

const (
	// Automatic: once the stage runs the commit (and bake time and windows allow).
	Automatic Mode = "Automatic"
	// Manual: also after an approval of the commit.
	Manual Mode = "Manual"
)

// Window is a daily time range (UTC) in which the gate may open. End before
// Start spans midnight; Days (empty: every day) are the days it opens on.
type Window struct {
	Days       []time.Weekday
	Start, End time.Duration // since midnight
}

// Input is everything the gate decides on.
type Input struct {
	// From and To name the current and the next stage.
	From, To string
	// Commit is what From runs and would pass on.
	Commit string
	// Compliant: every member of From runs Commit, healthy. Waiting says, when
	// not, what From waits for ("1 of 2 dev clusters run 3f2a…; fleet/drone-dev runs 9c01…").
	Compliant bool
	Waiting   string
	// CompliantSince is when From was first seen running Commit everywhere.
	CompliantSince time.Time
	BakeTime       time.Duration
	Mode           Mode
	// Approved is the commit (or a prefix of at least MinApprovalPrefix characters) approved for To.
	Approved string
	// ApprovalHint says how to approve, in the message while an approval is
	// missing (default: "tug promote approve <To>").
	ApprovalHint string
	Windows      []Window
	// ScheduledWindows are windows given by when they open and close (Sveltos'
	// cron promotionWindow); the gate opens when any window of either list is open.
	ScheduledWindows []ScheduledWindow
	// Done: To already has Commit (written, proposed or rendered).
	Done bool
	Now  time.Time
}

// MinApprovalPrefix is the shortest commit prefix an approval may give.
const MinApprovalPrefix = 7

// Decision is the gate's answer.
type Decision struct {
	// Open: promote Commit to To now.
	Open bool
	// Done: To already has Commit; nothing to do.
	Done bool
	// Message says what waits for what, or what happens.
	Message string
	// RecheckAfter, when set, is when time alone may change the decision (bake
	// time ending, a window opening).
	RecheckAfter time.Duration
	// Blocked names the check that holds the commit back (empty when Open or Done),
	// for reasons a machine can switch on.
	Blocked Check
}

// Check is one check of the gate.
type Check string

// The checks of the gate, in the order Decide runs them.
const (
	CheckCommit     Check = "Commit"
	CheckCompliance Check = "Compliance"
	CheckBakeTime   Check = "BakeTime"
	CheckApproval   Check = "Approval"
	CheckWindow     Check = "Window"
)

// Short abbreviates a commit id for messages.
func Short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

// Approves reports whether an approval names commit (the full id or a prefix of
// at least MinApprovalPrefix characters).
func Approves(approved, commit string) bool {
	approved = strings.TrimSpace(approved)
	return commit != "" && len(approved) >= MinApprovalPrefix && strings.HasPrefix(commit, approved)
}

// Decide runs the gate.
func Decide(in Input) Decision {
	waits := in.To + " waits: "
	switch {
	case in.Commit == "":
		return Decision{Message: waits + in.From + " runs no known commit yet", Blocked: CheckCommit}
	case in.Done:
		return Decision{Done: true, Message: fmt.Sprintf("%s has %s", in.To, Short(in.Commit))}
	case !in.Compliant:
		msg := in.Waiting
		if msg == "" {
			msg = fmt.Sprintf("%s does not run %s everywhere yet", in.From, Short(in.Commit))
		}
		return Decision{Message: waits + msg, Blocked: CheckCompliance}
	}
	if in.BakeTime > 0 {
		// Messages name absolute times, so that they do not change while waiting.
		if in.CompliantSince.IsZero() {
			return Decision{Message: fmt.Sprintf("%sbake time: %s of %s running %s everywhere", waits, in.BakeTime, in.From, Short(in.Commit)), RecheckAfter: in.BakeTime, Blocked: CheckBakeTime}
		}
		if until := in.CompliantSince.Add(in.BakeTime); in.Now.Before(until) {
			return Decision{
				Message:      fmt.Sprintf("%sbake time: %s runs %s everywhere since %s; %s required (until %s)", waits, in.From, Short(in.Commit), stamp(in.CompliantSince), in.BakeTime, stamp(until)),
				RecheckAfter: until.Sub(in.Now),
				Blocked:      CheckBakeTime,
			}
		}
	}
	if in.Mode == Manual && !Approves(in.Approved, in.Commit) {
		hint := in.ApprovalHint
		if hint == "" {
			hint = "tug promote approve " + in.To
		}
		return Decision{Message: fmt.Sprintf("%sapproval of %s (%s)", waits, Short(in.Commit), hint), Blocked: CheckApproval}
	}
	if len(in.Windows) > 0 || len(in.ScheduledWindows) > 0 {
		if next, open := nextAnyOpening(in.Windows, in.ScheduledWindows, in.Now); !open {
			descs := []string{}
			if len(in.Windows) > 0 {
				descs = append(descs, describe(in.Windows))
			}
			for _, w := range in.ScheduledWindows {
				descs = append(descs, w.Description)
			}
			return Decision{
				Message:      fmt.Sprintf("%sthe next promotion window (%s), opening %s", waits, strings.Join(descs, "; "), stamp(in.Now.Add(next))),
				RecheckAfter: next,
				Blocked:      CheckWindow,
			}
		}
	}
	return Decision{Open: true, Message: fmt.Sprintf("promoting %s from %s to %s", Short(in.Commit), in.From, in.To)}
}

// Schedule is a recurring time: Next is the first time after t (a cron
// schedule, for example); the zero time when there is none.
type Schedule interface {
	Next(t time.Time) time.Time
}

// ScheduledWindow opens at each time of From and closes at the next time of To
// after that: it is open at t when the last opening at or before t has not been
// followed by a closing yet.
type ScheduledWindow struct {
	From, To Schedule
	// Description names the window in messages (e.g. the cron expressions).
	Description string
}

// openAt reports whether w is open at now, else how long until it opens. The
// last opening is searched for over short spans first, so that frequent
// schedules cost few steps; a year back at most.
func (w ScheduledWindow) openAt(now time.Time) (time.Duration, bool) {
	for _, back := range []time.Duration{time.Hour, 24 * time.Hour, 8 * 24 * time.Hour, 32 * 24 * time.Hour, 367 * 24 * time.Hour} {
		t := w.From.Next(now.Add(-back))
		if t.IsZero() || t.After(now) {
			continue
		}
		// t is an opening at or before now: find the last one.
		for {
			n := w.From.Next(t)
			if n.IsZero() || n.After(now) {
				break
			}
			t = n
		}
		if closes := w.To.Next(t); closes.IsZero() || closes.After(now) {
			return 0, true
		}
		break
	}
	next := w.From.Next(now)
	if next.IsZero() {
		return 367 * 24 * time.Hour, false
	}
	return next.Sub(now), false
}

// nextAnyOpening says whether any window is open at now, else how long until
// the first one opens.
func nextAnyOpening(windows []Window, scheduled []ScheduledWindow, now time.Time) (time.Duration, bool) {
	soonest := time.Duration(-1)
	if len(windows) > 0 {
		next, open := nextOpening(windows, now)
		if open {
			return 0, true
		}
		soonest = next
	}
	for _, w := range scheduled {
		next, open := w.openAt(now)
		if open {
			return 0, true
		}
		if soonest < 0 || next < soonest {
			soonest = next
		}
	}
	return soonest, false
}

// inWindow reports whether t (UTC) falls in w.
func inWindow(w Window, t time.Time) bool {
	t = t.UTC()
	midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	since := t.Sub(midnight)
	day := t.Weekday()
	if w.Start < w.End {
		return onDay(w, day) && since >= w.Start && since < w.End
	}
	// Spanning midnight: open from Start on an allowed day until End the next day.
	if since >= w.Start && onDay(w, day) {
		return true
	}
	return since < w.End && onDay(w, (day+6)%7)
}

func onDay(w Window, d time.Weekday) bool {
	if len(w.Days) == 0 {
		return true
	}
	for _, x := range w.Days {
		if x == d {
			return true
		}
	}
	return false
}

// nextOpening says whether a window is open at now, else how long until one
// opens (scanning a week minute by minute at worst).
func nextOpening(windows []Window, now time.Time) (time.Duration, bool) {
	for _, w := range windows {
		if inWindow(w, now) {
			return 0, true
		}
	}
	start := now.UTC().Truncate(time.Minute)
	for d := time.Minute; d <= 8*24*time.Hour; d += time.Minute {
		for _, w := range windows {
			if inWindow(w, start.Add(d)) {
				return start.Add(d).Sub(now), false
			}
		}
	}
	return 24 * time.Hour, false
}

func describe(windows []Window) string {
	parts := make([]string, 0, len(windows))
	for _, w := range windows {
		days := "daily"
		if len(w.Days) > 0 {
			ds := append([]time.Weekday(nil), w.Days...)
			sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
			names := make([]string, len(ds))
			for i, d := range ds {
				names[i] = d.String()[:3]
			}
			days = strings.Join(names, ",")
		}
		parts = append(parts, fmt.Sprintf("%s %s-%s UTC", days, clock(w.Start), clock(w.End)))
	}
	return strings.Join(parts, "; ")
}

// stamp prints a time for messages: UTC, to the minute, with the weekday.
func stamp(t time.Time) string {
	return t.UTC().Format("Mon 15:04 UTC")
}

func clock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60)
}

// ParseClock reads "HH:MM" as a duration since midnight.
func ParseClock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// ParseWeekday reads Mon … Sun.
func ParseWeekday(s string) (time.Weekday, error) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.EqualFold(d.String()[:3], s) {
			return d, nil
		}
	}
	return 0, fmt.Errorf("%q is not a day (Mon … Sun)", s)
}
