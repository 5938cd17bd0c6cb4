package stdlib

import (
	"math"
	"testing"

	"github.com/rayflow/rayflow/exec"
)

func TestJSONEncode(t *testing.T) {
	m := exec.NewMap(3)
	_ = m.Set(S("z"), I(1))
	_ = m.Set(S("a"), L(F(1), F(0.1), F(1e20), F(-2.5e-7), exec.None, exec.True))
	_ = m.Set(I(3), S("q\"\\\n\t\x01é<>"))
	_ = m.Set(exec.False, tensor([]int{2, 2}, 1, 2, 3, 4.5))
	got, err := EncodeJSON(exec.MapValue(m))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"z":1,"a":[1.0,0.1,1e+20,-2.5e-07,null,true],"3":"q\"\\\n\t\u0001é<>","false":[[1.0,2.0],[3.0,4.5]]}`
	if got != want {
		t.Errorf("encode =\n%s\nwant\n%s", got, want)
	}
	for _, v := range []exec.Value{F(math.NaN()), F(math.Inf(1)), tensor([]int{1}, math.Inf(-1))} {
		_, err := EncodeJSON(v)
		wantErr(t, err, exec.KindValue, "JSON has no such number")
	}
	_, err = EncodeJSON(L(exec.FuncValue(fn(t, MathModule(), "sqrt"))))
	wantErr(t, err, exec.KindType, "cannot encode a value of type function")
	_, err = EncodeJSON(exec.FutureValue(exec.NewFuture("", "task f")))
	wantErr(t, err, exec.KindType, "type future")
	// A list that contains itself.
	l := &exec.List{}
	l.Elems = append(l.Elems, exec.ListValue(l))
	_, err = EncodeJSON(exec.ListValue(l))
	wantErr(t, err, exec.KindValue, "nested more than")
}

func TestJSONRoundTrip(t *testing.T) {
	docs := []string{
		`null`, `true`, `0`, `-12`, `9223372036854775807`, `1.5`, `1e+100`, `-0.0`, `""`,
		`"a\"b\\c\n\u0000é"`, `[]`, `{}`, `[1,[2,[3.0]]]`,
		`{"b":1,"a":{"y":[true,false,null],"x":"s"}}`,
	}
	for _, d := range docs {
		v, err := DecodeJSON(d)
		if err != nil {
			t.Errorf("decode %s: %v", d, err)
			continue
		}
		got, err := EncodeJSON(v)
		if err != nil {
			t.Errorf("encode %s: %v", v.Repr(), err)
			continue
		}
		if got != d {
			t.Errorf("round trip %s -> %s", d, got)
		}
	}
}

func TestJSONDecode(t *testing.T) {
	j := JSONModule()
	tests := []struct {
		in, want string
	}{
		{` { "b" : 1 , "a" : [ 1 , 2.0 , 3e2 ] } `, `{"b": 1, "a": [1, 2.0, 300.0]}`},
		{`{"a":1,"b":2,"a":3}`, `{"a": 3, "b": 2}`},
		{`"\ud83d\ude00 \u00e9 \/"`, `"😀 é /"`},
		{`"\ud800"`, `"` + "\ufffd" + `"`},
		{`1E3`, `1000.0`},
		{`1e999`, `inf`},
	}
	for _, tt := range tests {
		got := mustCall(t, j, "decode", S(tt.in))
		if got.Repr() != tt.want {
			t.Errorf("decode %s = %s, want %s", tt.in, got.Repr(), tt.want)
		}
	}
	if v := mustCall(t, j, "decode", S("7")); v.Kind() != exec.IntKind {
		t.Error("7 did not decode as an int")
	}
	if v := mustCall(t, j, "decode", S("7.0")); v.Kind() != exec.FloatKind {
		t.Error("7.0 did not decode as a float")
	}
	errs := []struct{ in, msg string }{
		{``, "unexpected end of input at line 1, column 1"},
		{`[1,]`, "unexpected character ']' at line 1, column 4"},
		{"{\n  \"a\" 1}", "expected ':', found character '1' at line 2, column 7"},
		{`{"a":1`, "expected ',' or '}', found end of input"},
		{`[1] x`, "after the value"},
		{`01`, "may not start with 0"},
		{`1.`, "expected a digit after '.'"},
		{`"abc`, "unterminated string"},
		{"\"a\tb\"", "control character"},
		{`"\x"`, "bad escape"},
		{`"\u12"`, "bad \\u escape"},
		{`tru`, "unexpected character 't'"},
		{`{1:2}`, "expected a string key"},
		{`99999999999999999999`, "does not fit in 64 bits"},
		{`NaN`, "unexpected character 'N'"},
	}
	for _, tt := range errs {
		_, err := call(t, j, "decode", S(tt.in))
		wantErr(t, err, exec.KindValue, tt.msg)
	}
	deep := ""
	for i := 0; i < 2000; i++ {
		deep += "["
	}
	_, err := call(t, j, "decode", S(deep))
	wantErr(t, err, exec.KindValue, "nested more than")
}
