package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"
)

// Output formats of commands that print lists.
const (
	outputTable = "table"
	outputYAML  = "yaml"
	outputJSON  = "json"
)

// addOutputFlag adds -o/--output to a command that prints a list.
func addOutputFlag(cmd *cobra.Command, format *string) {
	cmd.Flags().StringVarP(format, "output", "o", outputTable, "output format: table, yaml or json")
}

// checkOutput rejects an unknown output format (a usage error).
func checkOutput(format string) error {
	switch format {
	case outputTable, "", outputYAML, outputJSON:
		return nil
	}
	return usageError{fmt.Errorf("unknown output format %q: use table, yaml or json", format)}
}

// printStructured writes v as YAML, or as indented JSON when format is json.
func printStructured(w io.Writer, format string, v any) error {
	if format == outputJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	out, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// table is a list to print: column headers, one row struct per line (what yaml
// and json print) and the cells of each row (what the table prints).
type table[T any] struct {
	headers []string
	rows    []T
	cells   func(T) []string
}

// print writes the list in the given format: an aligned table with upper-case
// headers, or the row structs as a YAML or JSON list.
func (t table[T]) print(w io.Writer, format string) error {
	rows := t.rows
	if rows == nil {
		rows = []T{} // an empty list, not null
	}
	switch format {
	case outputYAML, outputJSON:
		return printStructured(w, format, rows)
	case outputTable, "":
		tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		headers := make([]string, len(t.headers))
		for i, h := range t.headers {
			headers[i] = strings.ToUpper(h)
		}
		fmt.Fprintln(tw, strings.Join(headers, "\t"))
		for _, r := range rows {
			cells := t.cells(r)
			for i, c := range cells {
				// A tab or newline inside a cell would break the alignment.
				cells[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(c)
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		return tw.Flush()
	default:
		return checkOutput(format)
	}
}
