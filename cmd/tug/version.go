package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
	"k8s.io/client-go/discovery"
)

// version is set at build time with -ldflags "-X main.version=v…".
var version = ""

func cliVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func newVersionCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the versions of tug and of the management cluster it talks to",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "tug: %s\n", cliVersion())
			cfg, err := g.restConfig()
			if err != nil {
				fmt.Fprintf(out, "management cluster: not configured (%v)\n", err)
				return nil
			}
			dc, err := discovery.NewDiscoveryClientForConfig(cfg)
			if err != nil {
				return err
			}
			v, err := dc.ServerVersion()
			if err != nil {
				fmt.Fprintf(out, "management cluster: %s unreachable (%v)\n", cfg.Host, err)
				return nil
			}
			fmt.Fprintf(out, "management cluster: %s (Kubernetes %s)\n", cfg.Host, v.GitVersion)
			return nil
		},
	}
}
