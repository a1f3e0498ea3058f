// Package support helps people debug the platform: DebuggingConfiguration
// changes log levels per component at run time, Techsupport collects objects,
// events and logs into an archive with Secret data redacted.
package support

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/notify"
)

// Controllers holds what the support controllers share with the rest of the manager.
type Controllers struct {
	clusters.ControllerDeps
	// LogLevels is the table the manager's logger consults; nil when the
	// logger was set without a LevelSink (DebuggingConfigurations then change nothing, and say so).
	LogLevels *LogLevels
	// ArchiveDir is where Techsupport archives are written.
	ArchiveDir string
}

// SetupWithManager registers the controllers (DebuggingConfiguration, Techsupport).
// Every manager runs the DebuggingConfiguration controller (each process has its
// own logger); only the unsharded manager collects Techsupports, so that one
// archive is written per run.
func (c *Controllers) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if err := (&DebuggingReconciler{
		Client:   c.Client,
		Recorder: mgr.GetEventRecorder("tugboat-debugging-controller"),
		Levels:   c.LogLevels,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the DebuggingConfiguration controller: %w", err)
	}
	if c.Shard.Key != "" {
		return nil
	}
	recorder := mgr.GetEventRecorder("tugboat-techsupport-controller")
	if err := (&TechsupportReconciler{
		Client:     c.Client,
		APIReader:  mgr.GetAPIReader(),
		Config:     mgr.GetConfig(),
		Recorder:   recorder,
		Fleet:      c.Fleet,
		Registry:   c.Registry,
		ArchiveDir: c.ArchiveDir,
		Notifier:   notify.New(c.Client, recorder),
	}).SetupWithManager(mgr, c.Concurrency); err != nil {
		return fmt.Errorf("setting up the Techsupport controller: %w", err)
	}
	return nil
}
