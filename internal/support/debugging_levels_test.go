package support_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/conditions"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// A DebuggingConfiguration raising EventManager to LogLevelDebug lets the V(5)
// logs of the events controllers through (controller-runtime's "Reconciling"
// is logged at V(5)) while the other controllers stay at the startup level,
// V(0); deleting it restores the startup level.
func TestDebuggingConfigurationRaisesOneComponent(t *testing.T) {
	ctx := context.Background()

	mark := logMark()
	reconcileEventSource(t, "debug-before")
	if reconciledAtV5(logsSince(mark), "eventsource") {
		t.Fatal("the eventsource controller logged at V(5) before any DebuggingConfiguration")
	}

	dc := &libv1beta1.DebuggingConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "default"},
		Spec: libv1beta1.DebuggingConfigurationSpec{Configuration: []libv1beta1.ComponentConfiguration{
			{Component: libv1beta1.ComponentEventManager, LogLevel: libv1beta1.LogLevelDebug},
			{Component: libv1beta1.ComponentAddonManager, LogLevel: libv1beta1.LogLevelNotSet},
		}},
	}
	if err := mgmt.Create(ctx, dc); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the EventManager level applied", func() error {
		if v, ok := levels.Table()["eventsource"]; !ok || v != 5 {
			return fmt.Errorf("level table %v", levels.Table())
		}
		return nil
	})

	mark = logMark()
	reconcileEventSource(t, "debug-raised")
	reconcileTechsupport(t, "debug-raised")
	lines := logsSince(mark)
	if !reconciledAtV5(lines, "eventsource") {
		t.Errorf("EventManager at LogLevelDebug: no V(5) log of the eventsource controller; logs:\n%s", lines)
	}
	if reconciledAtV5(lines, "techsupport") {
		t.Error("the techsupport controller (no component raised) logged at V(5)")
	}

	if err := mgmt.Delete(ctx, dc); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the startup level restored", func() error {
		if table := levels.Table(); len(table) != 0 {
			return fmt.Errorf("level table %v", table)
		}
		return nil
	})
	mark = logMark()
	reconcileEventSource(t, "debug-restored")
	if reconciledAtV5(logsSince(mark), "eventsource") {
		t.Error("the eventsource controller still logs at V(5) after the DebuggingConfiguration was deleted")
	}
}

func logMark() int {
	_, offset := logs.Since(0)
	return offset
}

func logsSince(mark int) []byte {
	data, _ := logs.Since(mark)
	return data
}

// reconciledAtV5 reports whether the lines hold controller-runtime's V(5)
// "Reconciling" line of a controller.
func reconciledAtV5(lines []byte, controller string) bool {
	sc := bufio.NewScanner(bytes.NewReader(lines))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var entry struct {
			Msg        string `json:"msg"`
			Controller string `json:"controller"`
		}
		if json.Unmarshal(sc.Bytes(), &entry) == nil && entry.Msg == "Reconciling" && entry.Controller == controller {
			return true
		}
	}
	return false
}

// reconcileEventSource creates an EventSource and waits until the eventsource
// controller has reconciled it (Ready).
func reconcileEventSource(t *testing.T, name string) {
	t.Helper()
	src := &libv1beta1.EventSource{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: libv1beta1.EventSourceSpec{ResourceSelectors: []libv1beta1.ResourceSelector{
			{Version: "v1", Kind: "ConfigMap", Namespace: "debug"},
		}},
	}
	create(t, mgmt, src)
	testenv.Eventually(t, "EventSource "+name+" reconciled", func() error {
		got := &libv1beta1.EventSource{}
		if err := mgmt.Get(context.Background(), types.NamespacedName{Name: name}, got); err != nil {
			return err
		}
		if !conditions.IsTrue(got, conditions.Ready) {
			return fmt.Errorf("not ready: %v", got.Status.Conditions)
		}
		return nil
	})
}

// reconcileTechsupport creates a Techsupport that collects nothing and waits
// until the techsupport controller has recorded its hash.
func reconcileTechsupport(t *testing.T, name string) {
	t.Helper()
	ts := &libv1beta1.Techsupport{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       libv1beta1.TechsupportSpec{Notifications: []libv1beta1.Notification{}},
	}
	create(t, mgmt, ts)
	testenv.Eventually(t, "Techsupport "+name+" reconciled", func() error {
		got := &libv1beta1.Techsupport{}
		if err := mgmt.Get(context.Background(), types.NamespacedName{Name: name}, got); err != nil {
			return err
		}
		if len(got.Status.Hash) == 0 {
			return fmt.Errorf("no status.hash yet")
		}
		return nil
	})
}
