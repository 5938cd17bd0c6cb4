package lang

import (
	"strings"
	"testing"
)

// FuzzParse checks that Parse and ParseExpr never panic, that every error
// has a position inside the file and reads as a user message, and that
// whatever Parse accepts the participle grammar (the tags in ast.go)
// accepts too, with the same tree.
func FuzzParse(f *testing.F) {
	for _, seed := range grammarCorpus[1:] { // [0] is large: it slows the fuzzer
		f.Add(seed)
	}
	for _, c := range errorCases {
		f.Add(c.src)
	}
	f.Add(genProgram(30))
	f.Fuzz(func(t *testing.T, src string) {
		file, err := Parse("f.rayflow", src)
		checkResult(t, src, err)
		if err == nil && file == nil {
			t.Fatal("Parse returned neither a file nor an error")
		}
		// participle is slow on large inputs, which the fuzzer minimizes.
		if err == nil && len(src) < 2000 {
			theirs, gerr := grammarParse(src)
			if gerr != nil {
				t.Fatalf("the participle grammar rejects what Parse accepts: %v", gerr)
			}
			if a, b := dumpAST(file), dumpAST(theirs); a != b {
				t.Fatalf("trees differ:\n%s", firstDiff(a, b))
			}
		}
		_, err = ParseExpr("f.rayflow", src)
		checkResult(t, src, err)
	})
}

func checkResult(t *testing.T, src string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	list, ok := err.(ErrorList)
	if !ok || len(list) == 0 {
		t.Fatalf("error %T %v is not a non-empty ErrorList", err, err)
	}
	lines := strings.Count(src, "\n") + 1
	for _, e := range list {
		if strings.Contains(e.Msg, "internal error") {
			t.Fatalf("%v", e)
		}
		if e.Pos.Filename != "f.rayflow" || e.Pos.Line < 1 || e.Pos.Line > lines ||
			e.Pos.Column < 1 || e.Pos.Offset < 0 || e.Pos.Offset > len(src) {
			t.Fatalf("error outside the file (%d lines, %d bytes): %+v %s", lines, len(src), e.Pos, e.Msg)
		}
		checkFriendly(t, src, e.Msg)
	}
	_ = Report(err, src)
}
