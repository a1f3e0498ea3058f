package support_test

import (
	"maps"
	"testing"

	"go.uber.org/zap/zapcore"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/support"
)

func TestUnitLevelTable(t *testing.T) {
	cc := func(c libv1beta1.Component, l libv1beta1.LogLevel) libv1beta1.ComponentConfiguration {
		return libv1beta1.ComponentConfiguration{Component: c, LogLevel: l}
	}
	for _, tc := range []struct {
		name   string
		config []libv1beta1.ComponentConfiguration
		want   map[string]int
	}{
		{"none", nil, map[string]int{}},
		{"not set leaves the startup level", []libv1beta1.ComponentConfiguration{cc(libv1beta1.ComponentEventManager, libv1beta1.LogLevelNotSet), cc(libv1beta1.ComponentUIBackend, "")}, map[string]int{}},
		{"debug", []libv1beta1.ComponentConfiguration{cc(libv1beta1.ComponentEventManager, libv1beta1.LogLevelDebug)},
			map[string]int{"eventsource": 5, "eventtrigger": 5, "cloudevents": 5}},
		{"info", []libv1beta1.ComponentConfiguration{cc(libv1beta1.ComponentAccessManager, libv1beta1.LogLevelInfo)}, map[string]int{"rolerequest": 0, "tenancy": 0}},
		{"a shared controller takes the most verbose", []libv1beta1.ComponentConfiguration{
			cc(libv1beta1.ComponentAddonManager, libv1beta1.LogLevelInfo), cc(libv1beta1.ComponentDriftDetectionManager, libv1beta1.LogLevelVerbose)},
			map[string]int{"profile-ClusterProfile": 0, "profile-Profile": 0, "clustersummary": support.MostVerbose, "cluster-watches": support.MostVerbose, "drift": support.MostVerbose}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := support.LevelTable(tc.config); !maps.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	for _, c := range []libv1beta1.Component{libv1beta1.ComponentAddonManager, libv1beta1.ComponentClassifier, libv1beta1.ComponentClassifierAgent,
		libv1beta1.ComponentSveltosClusterManager, libv1beta1.ComponentDriftDetectionManager, libv1beta1.ComponentAccessManager,
		libv1beta1.ComponentHealthCheckManager, libv1beta1.ComponentEventManager, libv1beta1.ComponentShardController, libv1beta1.ComponentUIBackend} {
		if len(support.ComponentLoggers(c)) == 0 {
			t.Errorf("component %s maps to no logger", c)
		}
	}
}

func TestUnitStartupVerbosity(t *testing.T) {
	for _, tc := range []struct {
		level zapcore.LevelEnabler
		dev   bool
		want  int
	}{
		{nil, false, 0},
		{nil, true, 1},
		{zapcore.InfoLevel, false, 0},
		{zapcore.DebugLevel, false, 1},
		{zapcore.Level(-5), false, 5},
		{zapcore.ErrorLevel, false, -1},
	} {
		if got := support.StartupVerbosity(tc.level, tc.dev); got != tc.want {
			t.Errorf("StartupVerbosity(%v, %v) = %d, want %d", tc.level, tc.dev, got, tc.want)
		}
	}
}
