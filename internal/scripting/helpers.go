package scripting

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"sigs.k8s.io/yaml"
)

// CompileLuaWithHelpers is CompileLua for scripts that produce content (Lua
// templates): their states also hold the helpers Sveltos documents for them.
//
// Global functions:
//   - getResource(obj) returns a copy of obj without metadata.managedFields,
//     resourceVersion and uid; getResource(list, id) returns the entry id of a
//     table keyed by identifier, or the first object of an array whose
//     metadata.name, "kind/name" or "kind/namespace/name" is id (nil if none).
//   - getLabel(obj, key) and getAnnotation(obj, key): a label or annotation
//     value, nil when absent.
//   - base64Encode(s) and base64Decode(s) (standard encoding; a bad input is
//     a Lua error).
//
// Modules, loaded with require (and also set as globals of the same name):
//   - json: encode(value) and decode(string);
//   - yaml: encode(value) and decode(string);
//   - strings: Compare, Contains, Fields, HasPrefix, HasSuffix, Index, Join,
//     Repeat, Replace (all occurrences when n < 0), Split, ToLower, ToUpper,
//     Trim, TrimPrefix, TrimSpace and TrimSuffix, as Go's strings package.
func CompileLuaWithHelpers(script string) (*Lua, error) {
	return compileLua(script, openHelpers)
}

func openHelpers(ls *lua.LState) {
	ls.SetGlobal("getResource", ls.NewFunction(luaGetResource))
	ls.SetGlobal("getLabel", ls.NewFunction(metadataEntry("labels")))
	ls.SetGlobal("getAnnotation", ls.NewFunction(metadataEntry("annotations")))
	ls.SetGlobal("base64Encode", ls.NewFunction(func(ls *lua.LState) int {
		ls.Push(lua.LString(base64.StdEncoding.EncodeToString([]byte(ls.CheckString(1)))))
		return 1
	}))
	ls.SetGlobal("base64Decode", ls.NewFunction(func(ls *lua.LState) int {
		b, err := base64.StdEncoding.DecodeString(ls.CheckString(1))
		if err != nil {
			ls.RaiseError("base64Decode: %v", err)
		}
		ls.Push(lua.LString(b))
		return 1
	}))
	modules := map[string]map[string]lua.LGFunction{
		"json":    {"encode": encodeWith(json.Marshal), "decode": decodeWith(json.Unmarshal)},
		"yaml":    {"encode": encodeWith(yaml.Marshal), "decode": decodeWith(func(b []byte, v any) error { return yaml.Unmarshal(b, v) })},
		"strings": stringFuncs(),
	}
	for name, funcs := range modules {
		mod := ls.SetFuncs(ls.NewTable(), funcs)
		ls.SetGlobal(name, mod)
		ls.PreloadModule(name, func(ls *lua.LState) int {
			ls.Push(mod)
			return 1
		})
	}
}

// goValue converts a Lua value to a JSON-like Go value (tables as maps, or
// slices when they are arrays).
func goValue(v lua.LValue) any {
	switch t := v.(type) {
	case lua.LBool:
		return bool(t)
	case lua.LString:
		return string(t)
	case lua.LNumber:
		f := float64(t)
		if f == float64(int64(f)) {
			return int64(f)
		}
		return f
	case *lua.LTable:
		return fromLuaValue(t)
	default:
		return nil
	}
}

func encodeWith(marshal func(any) ([]byte, error)) lua.LGFunction {
	return func(ls *lua.LState) int {
		b, err := marshal(goValue(ls.CheckAny(1)))
		if err != nil {
			ls.RaiseError("encode: %v", err)
		}
		ls.Push(lua.LString(b))
		return 1
	}
}

func decodeWith(unmarshal func([]byte, any) error) lua.LGFunction {
	return func(ls *lua.LState) int {
		var v any
		if err := unmarshal([]byte(ls.CheckString(1)), &v); err != nil {
			ls.RaiseError("decode: %v", err)
		}
		ls.Push(ToLua(ls, v))
		return 1
	}
}

// luaGetResource implements getResource(obj) and getResource(list, id).
func luaGetResource(ls *lua.LState) int {
	tbl := ls.CheckTable(1)
	if ls.GetTop() < 2 || ls.Get(2) == lua.LNil {
		ls.Push(ToLua(ls, cleanObject(goValue(tbl))))
		return 1
	}
	id := ls.CheckString(2)
	if v := tbl.RawGetString(id); v != lua.LNil {
		ls.Push(ToLua(ls, cleanObject(goValue(v))))
		return 1
	}
	for i := 1; i <= tbl.Len(); i++ {
		obj, ok := goValue(tbl.RawGetInt(i)).(map[string]any)
		if !ok {
			continue
		}
		md, _ := obj["metadata"].(map[string]any)
		kind, _ := obj["kind"].(string)
		ns, _ := md["namespace"].(string)
		name, _ := md["name"].(string)
		if id == name || id == kind+"/"+name || id == kind+"/"+ns+"/"+name {
			ls.Push(ToLua(ls, cleanObject(obj)))
			return 1
		}
	}
	ls.Push(lua.LNil)
	return 1
}

// cleanObject drops the metadata fields that describe a stored copy, not the object.
func cleanObject(v any) any {
	obj, ok := v.(map[string]any)
	if !ok {
		return v
	}
	if md, ok := obj["metadata"].(map[string]any); ok {
		delete(md, "managedFields")
		delete(md, "resourceVersion")
		delete(md, "uid")
	}
	return obj
}

// metadataEntry implements getLabel / getAnnotation.
func metadataEntry(field string) lua.LGFunction {
	return func(ls *lua.LState) int {
		obj, _ := goValue(ls.CheckTable(1)).(map[string]any)
		key := ls.CheckString(2)
		md, _ := obj["metadata"].(map[string]any)
		entries, _ := md[field].(map[string]any)
		if v, ok := entries[key]; ok {
			ls.Push(lua.LString(fmt.Sprint(v)))
			return 1
		}
		ls.Push(lua.LNil)
		return 1
	}
}

func stringFuncs() map[string]lua.LGFunction {
	s1 := func(fn func(string) string) lua.LGFunction {
		return func(ls *lua.LState) int { ls.Push(lua.LString(fn(ls.CheckString(1)))); return 1 }
	}
	s2 := func(fn func(string, string) string) lua.LGFunction {
		return func(ls *lua.LState) int { ls.Push(lua.LString(fn(ls.CheckString(1), ls.CheckString(2)))); return 1 }
	}
	b2 := func(fn func(string, string) bool) lua.LGFunction {
		return func(ls *lua.LState) int { ls.Push(lua.LBool(fn(ls.CheckString(1), ls.CheckString(2)))); return 1 }
	}
	list := func(ls *lua.LState, items []string) int {
		tbl := ls.CreateTable(len(items), 0)
		for _, s := range items {
			tbl.Append(lua.LString(s))
		}
		ls.Push(tbl)
		return 1
	}
	return map[string]lua.LGFunction{
		"Compare": func(ls *lua.LState) int {
			ls.Push(lua.LNumber(strings.Compare(ls.CheckString(1), ls.CheckString(2))))
			return 1
		},
		"Contains":  b2(strings.Contains),
		"HasPrefix": b2(strings.HasPrefix),
		"HasSuffix": b2(strings.HasSuffix),
		"Index": func(ls *lua.LState) int {
			ls.Push(lua.LNumber(strings.Index(ls.CheckString(1), ls.CheckString(2))))
			return 1
		},
		"Fields": func(ls *lua.LState) int { return list(ls, strings.Fields(ls.CheckString(1))) },
		"Split":  func(ls *lua.LState) int { return list(ls, strings.Split(ls.CheckString(1), ls.CheckString(2))) },
		"Join": func(ls *lua.LState) int {
			tbl := ls.CheckTable(1)
			parts := make([]string, 0, tbl.Len())
			for i := 1; i <= tbl.Len(); i++ {
				parts = append(parts, tbl.RawGetInt(i).String())
			}
			ls.Push(lua.LString(strings.Join(parts, ls.CheckString(2))))
			return 1
		},
		"Repeat": func(ls *lua.LState) int {
			n := ls.CheckInt(2)
			if n < 0 || n > 1<<16 {
				ls.RaiseError("Repeat: count %d out of range", n)
			}
			ls.Push(lua.LString(strings.Repeat(ls.CheckString(1), n)))
			return 1
		},
		"Replace": func(ls *lua.LState) int {
			ls.Push(lua.LString(strings.Replace(ls.CheckString(1), ls.CheckString(2), ls.CheckString(3), ls.OptInt(4, -1))))
			return 1
		},
		"ToLower":    s1(strings.ToLower),
		"ToUpper":    s1(strings.ToUpper),
		"TrimSpace":  s1(strings.TrimSpace),
		"Trim":       s2(strings.Trim),
		"TrimPrefix": s2(strings.TrimPrefix),
		"TrimSuffix": s2(strings.TrimSuffix),
	}
}
