// Command tug is Tugboat's command line: register clusters, look at what the
// platform deployed, schedule GitOps repositories and run a local platform.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// usageError marks a mistake in how tug was called (exit code 2).
type usageError struct{ error }

func main() {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	err := newRootCommand().ExecuteContext(ctx)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "tug:", err)
	var ue usageError
	if errors.As(err, &ue) {
		os.Exit(2)
	}
	os.Exit(1)
}

// globalOptions are the flags every command shares.
type globalOptions struct {
	kubeconfig string
	context    string
}

func newRootCommand() *cobra.Command {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:           "tug",
		Short:         "Tugboat: an event-driven internal developer platform for fleets of Kubernetes clusters",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.kubeconfig, "kubeconfig", "", "kubeconfig of the management cluster (default: $KUBECONFIG, ~/.kube/config, in-cluster)")
	root.PersistentFlags().StringVar(&g.context, "context", "", "kubeconfig context of the management cluster")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newRegisterCommand(g),
		newDeregisterCommand(g),
		newVersionCommand(g),
		newScheduleCommand(),
		newDevCommand(),
		newShowCommand(g),
		newRedeployCommand(g),
		newGenerateCommand(g),
	)
	return root
}
