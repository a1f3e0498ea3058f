package main

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/go-logr/logr/funcr"
	"github.com/spf13/cobra"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/tugboat-dev/tugboat/internal/dashboard"
)

func newDashboardCommand(g *globalOptions) *cobra.Command {
	var port int
	cmd := &cobra.Command{
		Use:   "dashboard",
		Short: "Serve the web dashboard on this machine, read with your own kubeconfig",
		Long: `Serves the dashboard the manager serves — clusters, profiles, the explanation
of a profile for a cluster, events, environments — on this machine's loopback
(127.0.0.1), on a free port or --port, and prints its URL. Ctrl-C stops it.

Every read is made with your kubeconfig's credentials (--kubeconfig,
--context, as kubectl): the pages show what your RBAC lets you read, and a
read the management cluster forbids you is left out of its page, which says
so. No page reads Secrets. Pages follow changes through your own watches of
the kinds you may list and watch in every namespace.

The local dashboard has no login: anyone who can reach this machine's
loopback can open it while it runs (as with kubectl proxy); it answers only
to requests addressed to 127.0.0.1, [::1] or localhost. See docs/dashboard.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if port < 0 || port > 65535 {
				return usageError{fmt.Errorf("--port %d: want 0 (a free port) to 65535", port)}
			}
			cfg, err := g.restConfig()
			if err != nil {
				return err
			}
			// What the dashboard logs (kinds not followed live, a failed
			// render) goes to stderr, one line each.
			stderr := cmd.ErrOrStderr()
			ctrllog.SetLogger(funcr.New(func(prefix, args string) {
				fmt.Fprintln(stderr, "tug dashboard:", prefix, args)
			}, funcr.Options{}))
			local := dashboard.Local{Config: cfg, Address: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
			err = local.Serve(cmd.Context(), func(url string) {
				fmt.Fprintf(cmd.OutOrStdout(), "Serving the dashboard as your kubeconfig's user (%s) at %s/clusters\nPress Ctrl-C to stop.\n", cfg.Host, url)
			})
			if err != nil && !errors.Is(err, cmd.Context().Err()) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&port, "port", 0, "loopback port to serve on (0: a free port)")
	return cmd
}
