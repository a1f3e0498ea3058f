// Package templating renders the Go templates that Sveltos users write in
// profile ConfigMaps/Secrets (annotation projectsveltos.io/template) and in
// EventTrigger-referenced ConfigMaps/Secrets (annotation
// projectsveltos.io/instantiate).
//
// Every template gets text/template with missingkey=error, all sprig functions
// and the conversions toYaml, fromYaml, fromYamlArray, toJson, fromJson,
// fromJsonArray, toToml and fromToml. On top of that each stage adds helpers:
//
//   - profile stage (ProfileContext): .Cluster, .MgmtResources and
//     getResource/copy/getField/setField/removeField taking a
//     templateResourceRef identifier;
//   - instantiate stage (EventContext, ClusterEventsContext): .Cluster,
//     .MatchingResource/.Resource (oneForEvent) or
//     .MatchingResources/.Resources, and the same helpers taking the object
//     itself.
//
// chainSetField and chainRemoveField take and return object maps in both
// stages. No helper mutates the objects it was given.
//
// The package holds no mutable state; it is safe for concurrent use.
package templating
