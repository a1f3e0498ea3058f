// Package bench holds Tugboat's benchmarks: Go benchmarks of the hot pure
// functions in this folder (go test -bench . ./bench/) and the fleet harness in
// bench/fleet (make bench), which writes bench/RESULTS.md. Neither runs in a
// plain `go test ./...`: the benchmarks need -bench, the harness is a program.
package bench
