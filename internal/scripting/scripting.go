// Package scripting compiles and runs the small programs users write over
// Kubernetes objects: Lua scripts defining evaluate() (which read the object as
// the global obj and return a table) and CEL rules (which read it as a
// variable and return a bool). Event sources and health checks use it.
package scripting

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// LuaTimeout bounds one evaluate() call: a script that loops forever fails
// with a timeout instead of holding a worker.
const LuaTimeout = 2 * time.Second

// Lua is a compiled Lua script that defines function evaluate(). It is safe for
// concurrent use: each call runs in its own Lua state (states are pooled).
type Lua struct {
	proto *lua.FunctionProto
	pool  sync.Pool
}

// newState is a Lua state with bounded stacks: a runaway recursion fails
// instead of growing without end.
func newState() *lua.LState {
	return lua.NewState(lua.Options{CallStackSize: 256, RegistrySize: 1024, RegistryMaxSize: 1024 * 1024})
}

// CompileLua parses and compiles a script and checks that it defines evaluate().
func CompileLua(script string) (*Lua, error) { return compileLua(script, nil) }

// compileLua is CompileLua with prepare (when set) run on every new Lua state
// before the script is loaded (to register helper functions and modules).
func compileLua(script string, prepare func(*lua.LState)) (*Lua, error) {
	chunk, err := parse.Parse(strings.NewReader(script), "evaluate")
	if err != nil {
		return nil, fmt.Errorf("parsing Lua: %w", err)
	}
	proto, err := lua.Compile(chunk, "evaluate")
	if err != nil {
		return nil, fmt.Errorf("compiling Lua: %w", err)
	}
	p := &Lua{proto: proto}
	p.pool.New = func() any {
		ls := newState()
		if prepare != nil {
			prepare(ls)
		}
		return ls
	}
	ls := p.pool.Get().(*lua.LState)
	defer ls.Close()
	if err := p.load(ls); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Lua) load(ls *lua.LState) error {
	ls.Push(ls.NewFunctionFromProto(p.proto))
	if err := ls.PCall(0, lua.MultRet, nil); err != nil {
		return fmt.Errorf("running Lua script: %w", err)
	}
	if fn, ok := ls.GetGlobal("evaluate").(*lua.LFunction); !ok || fn == nil {
		return fmt.Errorf("the Lua script does not define function evaluate()")
	}
	return nil
}

// Evaluate sets the globals (JSON-like Go values: maps, slices, strings,
// numbers, bools) and calls evaluate(); the table it returns comes back as a
// map of its string keys to bools, strings and numbers (nested tables as maps,
// nested arrays as slices).
// Anything but a table is an error naming what came back.
func (p *Lua) Evaluate(globals map[string]any) (map[string]any, error) {
	var out map[string]any
	err := p.call(globals, nil, func(ret lua.LValue) error {
		tbl, isTable := ret.(*lua.LTable)
		if !isTable {
			return fmt.Errorf("evaluate() returned %s, want a table", ret.Type())
		}
		out = fromLuaTable(tbl)
		return nil
	})
	return out, err
}

// EvaluateList sets the globals, calls evaluate(args...) and reads what it
// returns as an array of tables (each as Evaluate returns one). Anything else
// is an error naming what came back: a value that is not a table, or an array
// element that is not one (by its position, counted from 1).
func (p *Lua) EvaluateList(globals map[string]any, args ...any) ([]map[string]any, error) {
	var out []map[string]any
	err := p.call(globals, args, func(ret lua.LValue) error {
		tbl, isTable := ret.(*lua.LTable)
		if !isTable {
			return fmt.Errorf("evaluate() returned %s, want an array of tables", ret.Type())
		}
		out = make([]map[string]any, 0, tbl.Len())
		for i := 1; i <= tbl.Len(); i++ {
			e, ok := tbl.RawGetInt(i).(*lua.LTable)
			if !ok {
				return fmt.Errorf("evaluate() returned an array whose element %d is %s, want a table", i, tbl.RawGetInt(i).Type())
			}
			out = append(out, fromLuaTable(e))
		}
		return nil
	})
	return out, err
}

// call runs evaluate(args...) with the globals set and hands what it returned
// to read, in a pooled state that is dropped instead of reused when anything failed.
func (p *Lua) call(globals map[string]any, args []any, read func(lua.LValue) error) error {
	ls := p.pool.Get().(*lua.LState)
	ok := false
	defer func() {
		if ok {
			ls.SetTop(0)
			p.pool.Put(ls)
		} else {
			ls.Close()
		}
	}()
	if err := p.load(ls); err != nil {
		return err
	}
	for k, v := range globals {
		ls.SetGlobal(k, ToLua(ls, v))
	}
	luaArgs := make([]lua.LValue, 0, len(args))
	for _, a := range args {
		luaArgs = append(luaArgs, ToLua(ls, a))
	}
	ctx, cancel := context.WithTimeout(context.Background(), LuaTimeout)
	defer cancel()
	ls.SetContext(ctx)
	err := ls.CallByParam(lua.P{Fn: ls.GetGlobal("evaluate"), NRet: 1, Protect: true}, luaArgs...)
	ls.RemoveContext()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("calling evaluate(): stopped after %s (does the script loop forever?)", LuaTimeout)
		}
		return fmt.Errorf("calling evaluate(): %w", err)
	}
	ret := ls.Get(-1)
	ls.Pop(1)
	if err := read(ret); err != nil {
		return err
	}
	ok = true
	return nil
}

func fromLuaTable(tbl *lua.LTable) map[string]any {
	out := map[string]any{}
	tbl.ForEach(func(k, v lua.LValue) {
		key, isString := k.(lua.LString)
		if !isString {
			return
		}
		switch t := v.(type) {
		case lua.LBool:
			out[string(key)] = bool(t)
		case lua.LString:
			out[string(key)] = string(t)
		case lua.LNumber:
			out[string(key)] = float64(t)
		case *lua.LTable:
			out[string(key)] = fromLuaValue(t)
		}
	})
	return out
}

// fromLuaValue converts a nested table: an array (a table whose keys are 1..n)
// becomes a []any of its converted elements, any other table a map.
func fromLuaValue(tbl *lua.LTable) any {
	n := tbl.Len()
	if n == 0 || tbl.MaxN() != n {
		return fromLuaTable(tbl)
	}
	isArray := true
	tbl.ForEach(func(k, _ lua.LValue) {
		if _, ok := k.(lua.LNumber); !ok {
			isArray = false
		}
	})
	if !isArray {
		return fromLuaTable(tbl)
	}
	out := make([]any, 0, n)
	for i := 1; i <= n; i++ {
		switch t := tbl.RawGetInt(i).(type) {
		case lua.LBool:
			out = append(out, bool(t))
		case lua.LString:
			out = append(out, string(t))
		case lua.LNumber:
			out = append(out, float64(t))
		case *lua.LTable:
			out = append(out, fromLuaValue(t))
		default:
			out = append(out, nil)
		}
	}
	return out
}

// ToLua converts a JSON-like Go value to a Lua value.
func ToLua(ls *lua.LState, v any) lua.LValue {
	switch t := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(t)
	case string:
		return lua.LString(t)
	case int64:
		return lua.LNumber(t)
	case int:
		return lua.LNumber(t)
	case int32:
		return lua.LNumber(t)
	case float64:
		return lua.LNumber(t)
	case map[string]any:
		tbl := ls.CreateTable(0, len(t))
		for k, e := range t {
			tbl.RawSetString(k, ToLua(ls, e))
		}
		return tbl
	case []any:
		tbl := ls.CreateTable(len(t), 0)
		for _, e := range t {
			tbl.Append(ToLua(ls, e))
		}
		return tbl
	default:
		return lua.LString(fmt.Sprint(t))
	}
}

// CEL is a compiled CEL rule over one map variable, returning a bool.
type CEL struct {
	variable string
	program  cel.Program
}

// CompileCEL compiles rule with variable (a map of string to any) in scope; a
// rule that cannot return a bool is an error.
func CompileCEL(rule, variable string) (*CEL, error) {
	env, err := cel.NewEnv(cel.Variable(variable, cel.MapType(cel.StringType, cel.DynType)))
	if err != nil {
		return nil, fmt.Errorf("creating CEL environment: %w", err)
	}
	ast, iss := env.Compile(rule)
	if iss != nil && iss.Err() != nil {
		return nil, iss.Err()
	}
	if t := ast.OutputType(); t != cel.BoolType && t != cel.DynType {
		return nil, fmt.Errorf("rule must evaluate to a bool, not %s", t)
	}
	prg, err := env.Program(ast)
	if err != nil {
		return nil, fmt.Errorf("building CEL program: %w", err)
	}
	return &CEL{variable: variable, program: prg}, nil
}

// Eval runs the rule with value as its variable. A result that is not a bool
// is an error.
func (c *CEL) Eval(value map[string]any) (bool, error) {
	out, _, err := c.program.Eval(map[string]any{c.variable: value})
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("rule returned %v, not a bool", out.Value())
	}
	return b, nil
}
