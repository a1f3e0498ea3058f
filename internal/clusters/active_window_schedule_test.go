package clusters

import (
	"strings"
	"testing"
	"time"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// When a window next opens and closes, whether the cluster is outside it, and
// how the controller reports a window it cannot use.
func TestUnitRecordActiveWindow(t *testing.T) {
	day := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	at := func(d, h int) time.Time { return day.Add(time.Duration(d)*24*time.Hour + time.Duration(h)*time.Hour) }
	office := &libv1beta1.ActiveWindow{From: "0 9 * * *", To: "0 17 * * *"}
	for _, tc := range []struct {
		name            string
		window          *libv1beta1.ActiveWindow
		now             time.Time
		unpause, pause  time.Time
		wait            time.Duration
		outside         bool
		wantErrContains string
	}{
		{name: "no window", now: at(0, 12)},
		{name: "inside", window: office, now: at(0, 12), unpause: at(1, 9), pause: at(0, 17), wait: 5 * time.Hour},
		{name: "before opening", window: office, now: at(0, 8), unpause: at(0, 9), pause: at(0, 17), wait: time.Hour, outside: true},
		{name: "after closing", window: office, now: at(0, 20), unpause: at(1, 9), pause: at(1, 17), wait: 13 * time.Hour, outside: true},
		{name: "at the opening", window: office, now: at(0, 9), unpause: at(1, 9), pause: at(0, 17), wait: 8 * time.Hour},
		{name: "descriptors", window: &libv1beta1.ActiveWindow{From: "@daily", To: "0 6 * * *"}, now: at(0, 3),
			unpause: at(1, 0), pause: at(0, 6), wait: 3 * time.Hour},
		{name: "from does not parse", window: &libv1beta1.ActiveWindow{From: "every morning", To: "0 17 * * *"}, now: at(0, 12),
			outside: true, wantErrContains: `spec.activeWindow.from "every morning"`},
		{name: "to does not parse", window: &libv1beta1.ActiveWindow{From: "0 9 * * *", To: "0 25 * * *"}, now: at(0, 12),
			outside: true, wantErrContains: `spec.activeWindow.to "0 25 * * *"`},
		{name: "never opens", window: &libv1beta1.ActiveWindow{From: "0 9 30 2 *", To: "0 17 * * *"}, now: at(0, 12),
			outside: true, wantErrContains: `spec.activeWindow.from "0 9 30 2 *" never fires`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := &libv1beta1.SveltosCluster{Spec: libv1beta1.SveltosClusterSpec{ActiveWindow: tc.window}}
			wait, err := recordActiveWindow(sc, tc.now)
			switch {
			case tc.wantErrContains != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErrContains)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErrContains)
			case tc.wantErrContains == "" && err != nil:
				t.Fatal(err)
			}
			if got := sc.OutsideActiveWindow(); got != tc.outside {
				t.Errorf("outside = %v, want %v", got, tc.outside)
			}
			if wait != tc.wait {
				t.Errorf("wait %s, want %s", wait, tc.wait)
			}
			st := sc.Status
			if tc.unpause.IsZero() {
				if st.NextUnpause != nil || st.NextPause != nil {
					t.Errorf("nextUnpause %v nextPause %v, want none", st.NextUnpause, st.NextPause)
				}
				if (tc.window == nil) != (st.ActiveWindowHash == nil) {
					t.Errorf("activeWindowHash %x for window %v", st.ActiveWindowHash, tc.window)
				}
				return
			}
			if st.NextUnpause == nil || !st.NextUnpause.Time.Equal(tc.unpause) || st.NextPause == nil || !st.NextPause.Time.Equal(tc.pause) {
				t.Errorf("nextUnpause %v nextPause %v, want %s and %s", st.NextUnpause, st.NextPause, tc.unpause, tc.pause)
			}
		})
	}
}
