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
func CompileLua(script string) (*Lua, error) {
	chunk, err := parse.Parse(strings.NewReader(script), "evaluate")
	if err != nil {
		return nil, fmt.Errorf("parsing Lua: %w", err)
	}
	proto, err := lua.Compile(chunk, "evaluate")
	if err != nil {
		return nil, fmt.Errorf("compiling Lua: %w", err)
	}
	p := &Lua{proto: proto}
	p.pool.New = func() any { return newState() }
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
// map of its string keys to bools, strings and numbers (nested tables as maps).
// Anything but a table is an error naming what came back.
func (p *Lua) Evaluate(globals map[string]any) (map[string]any, error) {
	ls := p.pool.Get().(*lua.LState)
	// A state that failed is dropped, not reused.
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
		return nil, err
	}
	for k, v := range globals {
		ls.SetGlobal(k, ToLua(ls, v))
	}
	ctx, cancel := context.WithTimeout(context.Background(), LuaTimeout)
	defer cancel()
	ls.SetContext(ctx)
	err := ls.CallByParam(lua.P{Fn: ls.GetGlobal("evaluate"), NRet: 1, Protect: true})
	ls.RemoveContext()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("calling evaluate(): stopped after %s (does the script loop forever?)", LuaTimeout)
		}
		return nil, fmt.Errorf("calling evaluate(): %w", err)
	}
	ret := ls.Get(-1)
	ls.Pop(1)
	tbl, isTable := ret.(*lua.LTable)
	if !isTable {
		return nil, fmt.Errorf("evaluate() returned %s, want a table", ret.Type())
	}
	ok = true
	return fromLuaTable(tbl), nil
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
			out[string(key)] = fromLuaTable(t)
		}
	})
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
