package support

import (
	"strings"
	"sync"

	"github.com/go-logr/logr"
	"go.uber.org/zap/zapcore"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// MostVerbose is the highest verbosity a component can be raised to
// (LogLevelVerbose), and the highest any LevelSink lets through, whatever
// the startup level. Above it client-go traces HTTP bodies (V(8): "Request
// Body" / "Response Body"), which carry objects as they travel, Secret data
// included — no log level of Tugboat shows them (test/e2e looks for the
// tutorial's secrets in a log at this level). The logger under a LevelSink
// must let it through.
const MostVerbose = 7

// Verbosity returns the V() level of a Sveltos log level; false for
// LogLevelNotSet (and empty), which leaves the component at the manager's
// startup level.
func Verbosity(level libv1beta1.LogLevel) (int, bool) {
	switch level {
	case libv1beta1.LogLevelInfo:
		return 0, true
	case libv1beta1.LogLevelDebug:
		return 5, true
	case libv1beta1.LogLevelVerbose:
		return MostVerbose, true
	}
	return 0, false
}

// ComponentLoggers says which of Tugboat's loggers do the work of a Sveltos
// component. Tugboat runs every controller in one manager, so a component is
// the controllers (the logger's "controller" value, which controller-runtime
// sets for everything logged while reconciling) and named loggers (logr
// WithName) that do its work. A logger serving several components logs at the
// most verbose of their levels. docs/support.md has the table.
func ComponentLoggers(c libv1beta1.Component) []string {
	switch c {
	case libv1beta1.ComponentAddonManager:
		return []string{"profile-ClusterProfile", "profile-Profile", "clustersummary"}
	case libv1beta1.ComponentDriftDetectionManager:
		return []string{"clustersummary", "cluster-watches", "drift"}
	case libv1beta1.ComponentEventManager:
		return []string{"eventsource", "eventtrigger", "cloudevents"}
	case libv1beta1.ComponentSveltosClusterManager:
		return []string{"sveltoscluster", "capi-cluster", "clusterset", "set", "cluster-watches"}
	case libv1beta1.ComponentClassifier, libv1beta1.ComponentClassifierAgent:
		return []string{"classifier", "managementclusterclassifier"}
	case libv1beta1.ComponentHealthCheckManager:
		return []string{"healthcheck", "clusterhealthcheck", "notify"}
	case libv1beta1.ComponentAccessManager:
		return []string{"rolerequest", "tenancy"}
	case libv1beta1.ComponentUIBackend:
		return []string{"dashboard"}
	case libv1beta1.ComponentShardController:
		return []string{"shard"}
	}
	return nil
}

// LogLevels is the table of verbosities a LevelSink consults, keyed by
// controller or logger name. The DebuggingConfiguration controller sets it;
// every logger of the manager reads it on each V() check. Safe for concurrent use.
type LogLevels struct {
	mu     sync.RWMutex
	byName map[string]int
}

// NewLogLevels returns an empty table: every logger at the startup level.
func NewLogLevels() *LogLevels {
	return &LogLevels{byName: map[string]int{}}
}

// Set replaces the table with the levels of a DebuggingConfiguration's
// entries (nil resets every component to the startup level).
func (l *LogLevels) Set(config []libv1beta1.ComponentConfiguration) {
	table := LevelTable(config)
	l.mu.Lock()
	l.byName = table
	l.mu.Unlock()
}

// Table returns a copy of the current table.
func (l *LogLevels) Table() map[string]int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make(map[string]int, len(l.byName))
	for k, v := range l.byName {
		out[k] = v
	}
	return out
}

// LevelTable turns component entries into verbosities by logger name.
func LevelTable(config []libv1beta1.ComponentConfiguration) map[string]int {
	table := map[string]int{}
	for _, c := range config {
		v, ok := Verbosity(c.LogLevel)
		if !ok {
			continue // LogLevelNotSet or empty: the startup level
		}
		for _, name := range ComponentLoggers(c.Component) {
			if old, seen := table[name]; !seen || v > old {
				table[name] = v
			}
		}
	}
	return table
}

// lookup returns the verbosity set for a controller or, failing that, for the
// first segment of the logger's name.
func (l *LogLevels) lookup(controller, name string) (int, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if len(l.byName) == 0 {
		return 0, false
	}
	if controller != "" {
		if v, ok := l.byName[controller]; ok {
			return v, true
		}
	}
	if name != "" {
		first, _, _ := strings.Cut(name, ".")
		if v, ok := l.byName[first]; ok {
			return v, true
		}
	}
	return 0, false
}

// StartupVerbosity is the highest V() level a zap level lets through (-1
// when not even V(0) passes, as with --zap-log-level=error). A nil level is
// zap's default: debug (V(1)) in development mode, info otherwise.
func StartupVerbosity(level zapcore.LevelEnabler, development bool) int {
	if level == nil {
		if development {
			return 1
		}
		return 0
	}
	v := -1
	for n := 0; n <= 127; n++ {
		if !level.Enabled(zapcore.Level(-n)) {
			break
		}
		v = n
	}
	return v
}

// LevelSink filters a logger's V() levels per component: a logger of a
// controller or name that the table lists logs up to the table's verbosity,
// every other one up to the startup verbosity. Errors always pass. The sink
// under it must let MostVerbose (and startup) through.
type LevelSink struct {
	sink    logr.LogSink
	startup int
	levels  *LogLevels
	// controller is the logger's "controller" value; name its WithName path.
	controller string
	name       string
}

// NewLevelSink wraps sink. startup is the verbosity of loggers the table does not name.
func NewLevelSink(sink logr.LogSink, startup int, levels *LogLevels) *LevelSink {
	return &LevelSink{sink: sink, startup: startup, levels: levels}
}

// NewLevelLogger wraps a logger in a LevelSink.
func NewLevelLogger(logger logr.Logger, startup int, levels *LogLevels) logr.Logger {
	return logr.New(NewLevelSink(logger.GetSink(), startup, levels))
}

var (
	_ logr.LogSink          = &LevelSink{}
	_ logr.CallDepthLogSink = &LevelSink{}
)

// Init passes the runtime information on.
func (s *LevelSink) Init(info logr.RuntimeInfo) { s.sink.Init(info) }

// Enabled consults the table, then the startup verbosity; never above
// MostVerbose.
func (s *LevelSink) Enabled(level int) bool {
	if level > MostVerbose {
		return false
	}
	if v, ok := s.levels.lookup(s.controller, s.name); ok {
		return level <= v
	}
	return level <= s.startup
}

// Info logs when Enabled (logr checks before calling).
func (s *LevelSink) Info(level int, msg string, keysAndValues ...any) {
	s.sink.Info(level, msg, keysAndValues...)
}

// Error always logs.
func (s *LevelSink) Error(err error, msg string, keysAndValues ...any) {
	s.sink.Error(err, msg, keysAndValues...)
}

// WithValues remembers a "controller" value.
func (s *LevelSink) WithValues(keysAndValues ...any) logr.LogSink {
	out := *s
	out.sink = s.sink.WithValues(keysAndValues...)
	for i := 0; i+1 < len(keysAndValues); i += 2 {
		if k, ok := keysAndValues[i].(string); ok && k == "controller" {
			if v, ok := keysAndValues[i+1].(string); ok {
				out.controller = v
			}
		}
	}
	return &out
}

// WithName remembers the name path.
func (s *LevelSink) WithName(name string) logr.LogSink {
	out := *s
	out.sink = s.sink.WithName(name)
	if out.name == "" {
		out.name = name
	} else {
		out.name += "." + name
	}
	return &out
}

// WithCallDepth keeps callers' file and line right.
func (s *LevelSink) WithCallDepth(depth int) logr.LogSink {
	out := *s
	if cd, ok := s.sink.(logr.CallDepthLogSink); ok {
		out.sink = cd.WithCallDepth(depth)
	}
	return &out
}
