// Command tug is Tugboat's command line: register clusters, look at what the
// platform deployed, schedule GitOps repositories and run a local platform.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// usageError marks a mistake in how tug was called (exit code 2).
type usageError struct{ error }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes tug with args and returns its exit code: 0, 1 when the command
// failed, 2 for a mistake in how it was called (usageError). Errors are printed
// on stderr as one line.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if args == nil {
		args = []string{} // cobra reads os.Args when given nil
	}
	root := newRootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "tug:", err)
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
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
		newAgentCommand(g),
		newVersionCommand(g),
		newScheduleCommand(g),
		newPromoteCommand(g),
		newDevCommand(),
		newShowCommand(g),
		newRedeployCommand(g),
		newGenerateCommand(g),
		newBootstrapCommand(g), newInitCommand(),
		newExplainCommand(g),
		newDashboardCommand(g),
	)
	// cobra adds these when it executes; added now, they get the same checks.
	root.InitDefaultCompletionCmd()
	usageErrors(root)
	root.InitDefaultHelpCmd()
	checkHelpTopic(root)
	return root
}

// usageErrors makes every argument mistake in the command tree a usageError:
// the errors of Args validators (cobra.NoArgs and friends return plain errors),
// and unknown subcommands. cobra reports those only at the root; a parent
// without RunE would print its help and succeed. So a parent prints its help
// when called bare and rejects any argument as an unknown command.
func usageErrors(cmd *cobra.Command) {
	if cmd.HasSubCommands() && cmd.Run == nil && cmd.RunE == nil {
		cmd.Args = unknownCommand
		cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	}
	if validate := cmd.Args; validate != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			if err := validate(c, args); err != nil {
				var ue usageError
				if errors.As(err, &ue) {
					return err
				}
				return usageError{err}
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		usageErrors(sub)
	}
}

// unknownCommand is the Args of a command with subcommands: any argument left
// is a subcommand that does not exist.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return usageError{fmt.Errorf("unknown command %q for %q%s", args[0], cmd.CommandPath(), didYouMean(cmd, args[0]))}
}

// didYouMean suggests, on the same line, the subcommands close to a mistyped one.
func didYouMean(cmd *cobra.Command, typed string) string {
	if cmd.DisableSuggestions {
		return ""
	}
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's default
	}
	suggestions := cmd.SuggestionsFor(typed)
	if len(suggestions) == 0 {
		return ""
	}
	for i, s := range suggestions {
		suggestions[i] = strconv.Quote(s)
	}
	return fmt.Sprintf(" (did you mean %s?)", strings.Join(suggestions, " or "))
}

// checkHelpTopic makes `tug help NO-SUCH-COMMAND` a usage error (cobra prints
// the root's usage and succeeds).
func checkHelpTopic(root *cobra.Command) {
	for _, c := range root.Commands() {
		if c.Name() != "help" || c.Run == nil {
			continue
		}
		help := c.Run
		c.Run = nil
		c.RunE = func(c *cobra.Command, args []string) error {
			if topic, rest, err := root.Find(args); err == nil && len(rest) > 0 {
				return unknownCommand(topic, rest)
			}
			help(c, args)
			return nil
		}
	}
}
