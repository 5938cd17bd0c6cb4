package repl

import (
	"reflect"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/rayflow/rayflow/lang"
)

// needsMore reports whether text is an unfinished input that continues on
// the next line: a bracket or brace is still open, the last line ends in
// an operator, a comma or a keyword that cannot end a statement, or there
// are decorators without their declaration yet.
func needsMore(text string) bool {
	toks, _ := lang.Lex(inputFile, text)
	depth := 0
	var last *lexer.Token
	onlyDecorators, sawDecorator := true, false
	for i := range toks {
		t := &toks[i]
		if t.Type == lang.EOL || t.Type == lang.EOF {
			continue
		}
		if t.Type == lang.Punct {
			switch t.Value {
			case "(", "[", "{":
				depth++
			case ")", "]", "}":
				depth--
			case "@":
				sawDecorator = true
			}
		}
		if t.Type == lang.Keyword {
			switch t.Value {
			case "fn", "task", "actor", "pipeline", "const":
				onlyDecorators = false
			}
		}
		last = t
	}
	switch {
	case last == nil:
		return false
	case depth > 0:
		return true
	case depth < 0:
		return false // let the parser report the stray closer
	case sawDecorator && onlyDecorators:
		return true
	}
	switch last.Type {
	case lang.Punct:
		switch last.Value {
		case ")", "]", "}":
			return false
		}
		return true
	case lang.Keyword:
		switch last.Value {
		case "return", "break", "continue", "true", "false", "none":
			return false
		}
		return true
	}
	return false
}

var positionType = reflect.TypeOf(lang.Position{})

// walk calls visit with every node pointer under root (pointers to AST
// structs) and a pointer to every position in them.
func walk(root any, visit func(any)) {
	walkValue(reflect.ValueOf(root), visit)
}

func walkValue(v reflect.Value, visit func(any)) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		if v.Elem().Kind() == reflect.Struct {
			if v.Elem().Type() == positionType {
				visit(v.Interface())
				return
			}
			if _, isRef := v.Interface().(*lang.Ref); isRef {
				return
			}
			visit(v.Interface())
		}
		walkValue(v.Elem(), visit)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if !f.CanSet() {
				continue
			}
			if f.Type() == positionType {
				visit(f.Addr().Interface())
				continue
			}
			walkValue(f, visit)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			walkValue(v.Index(i), visit)
		}
	}
}
