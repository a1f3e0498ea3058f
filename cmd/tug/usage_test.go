package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// Every mistake in how tug is called exits 2 with one line on stderr, before
// anything is read from a cluster.
func TestUnitUsageErrors(t *testing.T) {
	t.Setenv("KUBECONFIG", "/nonexistent/kubeconfig")
	for _, tc := range []struct {
		args []string
		want string // the line on stderr
	}{
		// unknown commands, at every level
		{[]string{"frobnicate"}, `unknown command "frobnicate" for "tug"`},
		{[]string{"shwo", "addons"}, `unknown command "shwo" for "tug" (did you mean "show"?)`},
		{[]string{"show", "frobnicate"}, `unknown command "frobnicate" for "tug show"`},
		{[]string{"show", "addon"}, `unknown command "addon" for "tug show" (did you mean "addons"?)`},
		{[]string{"schedule", "frobnicate"}, `unknown command "frobnicate" for "tug schedule"`},
		{[]string{"register", "frobnicate"}, `unknown command "frobnicate" for "tug register"`},
		{[]string{"help", "show", "frobnicate"}, `unknown command "frobnicate" for "tug show"`},
		// unexpected arguments
		{[]string{"show", "addons", "extra-arg"}, `unknown command "extra-arg" for "tug show addons"`},
		{[]string{"version", "extra-arg"}, `unknown command "extra-arg" for "tug version"`},
		{[]string{"schedule", "render", "--out=x", "--control-plane=y", "extra-arg"}, `unknown command "extra-arg" for "tug schedule render"`},
		// unknown flags
		{[]string{"show", "addons", "--bogus-flag"}, `unknown flag: --bogus-flag`},
		{[]string{"show", "--bogus-flag"}, `unknown flag: --bogus-flag`},
		{[]string{"--bogus-flag"}, `unknown flag: --bogus-flag`},
		{[]string{"version", "-n", "x"}, `unknown shorthand flag: 'n' in -n`},
		// missing required flags and bad flag values
		{[]string{"schedule", "render", "--control-plane=./cp"}, `--out is required`},
		{[]string{"schedule", "diff"}, `--control-plane is required`},
		{[]string{"dashboard", "--port", "70000"}, `--port 70000: want 0 (a free port) to 65535`},
		{[]string{"dashboard", "extra-arg"}, `unknown command "extra-arg" for "tug dashboard"`},
		{[]string{"schedule", "push", "--direct"}, `--control-plane is required`},
		{[]string{"register", "cluster", "-n", "apps", "--kubeconfig-file=x"}, `--namespace and --cluster are required`},
		{[]string{"deregister", "cluster", "--cluster=prod-1"}, `--namespace and --cluster are required`},
		{[]string{"redeploy", "cluster", "-n", "apps"}, `--namespace and --cluster are required`},
		{[]string{"generate", "kubeconfig", "-n", ""}, `--namespace and --serviceaccount must not be empty`},
		{[]string{"show", "addons", "--profile=dbaas"}, `--profile "dbaas": use ClusterProfile/NAME, Profile/NAME or Profile/NAMESPACE/NAME`},
		{[]string{"show", "dryrun", "-o", "xml"}, `unknown output format "xml": use table, yaml or json`},
		{[]string{"bootstrap", "frobnicate"}, `unknown command "frobnicate" for "tug bootstrap"`},
		{[]string{"bootstrap", "git", "--url=https://git.example.com/p.git", "extra-arg"}, `unknown command "extra-arg" for "tug bootstrap git"`},
		{[]string{"bootstrap", "git"}, `--url is required`},
		{[]string{"bootstrap", "git", "--url=git.example.com/p.git"}, `--url "git.example.com/p.git": want an http://, https:// or ssh:// URL`},
		{[]string{"bootstrap", "git", "--url=ftp://git.example.com/p.git"}, `--url "ftp://git.example.com/p.git": want an http://, https:// or ssh:// URL`},
		{[]string{"bootstrap", "git", "--url=https://git.example.com/p.git", "--branch="}, `--branch must not be empty`},
		{[]string{"bootstrap", "git", "--url=https://git.example.com/p.git", "--path=../up"}, `--path "../up" leaves the repository`},
		{[]string{"bootstrap", "git", "--url=https://git.example.com/p.git", "--path=/abs"}, `--path "/abs": want a folder relative to the repository's root (. for all of it)`},
		{[]string{"bootstrap", "git", "--url=https://git.example.com/p.git", "--interval=soon"}, `--interval "soon": want a positive duration such as 1m or 30s`},
		{[]string{"bootstrap", "git", "--url=https://git.example.com/p.git", "--interval=0s"}, `--interval "0s": want a positive duration such as 1m or 30s`},
		{[]string{"bootstrap", "git", "--url=https://git.example.com/p.git", "--management-cluster=mgmt"}, `--management-cluster "mgmt": want NAMESPACE/NAME`},
		{[]string{"bootstrap", "git", "--url=https://git.example.com/p.git", "--name=Platform"}, `--name "Platform": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`},
		{[]string{"bootstrap", "git", "--url=https://git.example.com/p.git", "-n", ""}, `--namespace "": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`},
		{[]string{"bootstrap", "git", "--bogus-flag"}, `unknown flag: --bogus-flag`},
		{[]string{"init", "frobnicate"}, `unknown command "frobnicate" for "tug init"`},
		{[]string{"init", "platform"}, `tug init platform takes one argument, the folder to write (DIR)`},
		{[]string{"init", "platform", "a", "b"}, `tug init platform takes one argument, the folder to write (DIR)`},
		{[]string{"init", "platform", "--force"}, `tug init platform takes one argument, the folder to write (DIR)`},
		{[]string{"dev", "tutorial", "portal", "--team", "Blue_Team"}, `--team "Blue_Team": want up to 42 lower-case letters, digits and '-', starting and ending with a letter or digit (it names the Cluster db-TEAM)`},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		if code != 2 {
			t.Errorf("tug %s: exit code %d, want 2 (stderr %q)", strings.Join(tc.args, " "), code, stderr.String())
		}
		if got, want := stderr.String(), "tug: "+tc.want+"\n"; got != want {
			t.Errorf("tug %s: stderr %q, want %q", strings.Join(tc.args, " "), got, want)
		}
		if stdout.Len() != 0 {
			t.Errorf("tug %s: stdout %q, want nothing", strings.Join(tc.args, " "), stdout.String())
		}
	}
}

// Asking for help is no mistake: it goes to stdout and exits 0.
func TestUnitHelp(t *testing.T) {
	for _, args := range [][]string{{}, {"show"}, {"schedule"}, {"help", "show"}, {"show", "addons", "--help"}, {"register", "cluster", "-h"}} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 0 || stderr.Len() != 0 || !strings.Contains(stdout.String(), "Usage:") {
			t.Errorf("tug %s: exit code %d, stderr %q, stdout %q", strings.Join(args, " "), code, stderr.String(), stdout.String())
		}
	}
}

// -n is --namespace wherever there is a --namespace.
func TestUnitNamespaceShorthand(t *testing.T) {
	var walk func(*cobra.Command)
	n := 0
	walk = func(cmd *cobra.Command) {
		if f := cmd.Flags().Lookup("namespace"); f != nil {
			n++
			if f.Shorthand != "n" {
				t.Errorf("%s: --namespace has shorthand %q, want -n", cmd.CommandPath(), f.Shorthand)
			}
		}
		for _, c := range cmd.Commands() {
			walk(c)
		}
	}
	walk(newRootCommand())
	if n < 8 {
		t.Errorf("%d commands with --namespace, want at least 8 (show addons/resources/usage/dryrun, register, deregister, redeploy, generate)", n)
	}
}
