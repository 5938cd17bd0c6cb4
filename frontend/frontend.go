package frontend

import (
	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/lang"
	"github.com/rayflow/rayflow/stdlib"
)

// Program is a checked program with what loading it needs.
type Program struct {
	File     string
	Source   string
	Compiled *compiler.Program
	// Modules are those the program was checked against: the standard
	// library, then the extra modules given to Compile.
	Modules []*exec.Module
}

// Compile parses source and checks it against the standard library and
// extra (nil for none). Errors are a lang.ErrorList.
func Compile(filename, source string, extra []*exec.Module) (*Program, error) {
	file, err := lang.Parse(filename, source)
	if err != nil {
		return nil, err
	}
	return CompileFile(file, extra)
}

// CompileFile checks an already parsed file, as Compile does for source
// text. The REPL builds its files from pieces parsed separately, so that
// each keeps the positions of the input it came from.
func CompileFile(file *lang.File, extra []*exec.Module) (*Program, error) {
	modules := append(stdlib.Modules(), extra...)
	cp, err := compiler.Compile(file, exec.Universe(modules))
	if err != nil {
		return nil, err
	}
	return &Program{File: file.Name, Source: file.Source, Compiled: cp, Modules: modules}, nil
}

// Load makes the program runnable on th (evaluating its consts there).
func (p *Program) Load(th *exec.Thread) (*exec.Program, error) {
	return exec.Load(th, p.Compiled, p.Modules)
}
