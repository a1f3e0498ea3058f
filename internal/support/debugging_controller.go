package support

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// DefaultDebuggingConfiguration is the name of the one DebuggingConfiguration
// that is read, as in Sveltos.
const DefaultDebuggingConfiguration = "default"

// DebuggingReconciler keeps the manager's log level table in step with the
// DebuggingConfiguration named "default": its entries set the levels of their
// components; its absence (or an entry's LogLevelNotSet) leaves a component at
// the manager's startup level. Every manager of a sharded installation runs it:
// each process has its own logger.
type DebuggingReconciler struct {
	Client   client.Client
	Recorder events.EventRecorder
	// Levels is the table the manager's LevelSink consults; nil when the logger
	// has none (the reconciler then says so in an Event).
	Levels *LogLevels
}

// SetupWithManager watches DebuggingConfigurations.
func (r *DebuggingReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&libv1beta1.DebuggingConfiguration{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("debuggingconfiguration").
		Complete(r)
}

// Reconcile applies the levels of "default"; any other name is reported and ignored.
func (r *DebuggingReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	logger := log.FromContext(ctx)
	dc := &libv1beta1.DebuggingConfiguration{}
	err := r.Client.Get(ctx, req.NamespacedName, dc)
	if apierrors.IsNotFound(err) {
		if req.Name == DefaultDebuggingConfiguration && r.Levels != nil {
			r.Levels.Set(nil)
			logger.Info("DebuggingConfiguration removed: every component at the startup log level")
		}
		return ctrl.Result{}, nil
	}
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("reading DebuggingConfiguration %s: %w", req.Name, err)
	}
	if dc.Name != DefaultDebuggingConfiguration {
		r.Recorder.Eventf(dc, nil, corev1.EventTypeWarning, "Ignored", "Configure",
			"only the DebuggingConfiguration named %q is read; %q changes no log level", DefaultDebuggingConfiguration, dc.Name)
		return ctrl.Result{}, nil
	}
	if r.Levels == nil {
		r.Recorder.Eventf(dc, nil, corev1.EventTypeWarning, "NoLevelTable", "Configure",
			"this manager's logger was set without Tugboat's level filter: log levels cannot change at run time")
		return ctrl.Result{}, nil
	}
	r.Levels.Set(dc.Spec.Configuration)
	summary := describeLevels(dc.Spec.Configuration)
	logger.Info("log levels applied", "levels", summary)
	r.Recorder.Eventf(dc, nil, corev1.EventTypeNormal, "LevelsApplied", "Configure", "log levels: %s", summary)
	return ctrl.Result{}, nil
}

// describeLevels says, per component, the level it now logs at.
func describeLevels(config []libv1beta1.ComponentConfiguration) string {
	if len(config) == 0 {
		return "every component at the startup level"
	}
	parts := make([]string, 0, len(config))
	for _, c := range config {
		level := c.LogLevel
		if level == "" {
			level = libv1beta1.LogLevelNotSet
		}
		parts = append(parts, fmt.Sprintf("%s=%s (%s)", c.Component, level, strings.Join(ComponentLoggers(c.Component), ",")))
	}
	slices.Sort(parts)
	return strings.Join(parts, "; ")
}
