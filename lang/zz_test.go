package lang
import ("os";"testing";"time";"strconv";"strings";"path/filepath")
func TestZZSlow(t *testing.T) {
	files, _ := filepath.Glob(os.Getenv("ZZDIR") + "/*")
	for _, fn := range files {
		b, _ := os.ReadFile(fn)
		line := strings.SplitN(string(b), "\n", 2)[1]
		line = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(line), "string("), ")")
		src, err := strconv.Unquote(line)
		if err != nil { continue }
		t0 := time.Now(); _, e1 := Parse("f", src); d1 := time.Since(t0)
		t0 = time.Now(); ParseExpr("f", src); d2 := time.Since(t0)
		t0 = time.Now(); if e1 == nil { grammarParse(src) }; d3 := time.Since(t0)
		if d1+d2+d3 > 20*time.Millisecond { t.Logf("%v %v %v len=%d %.80q", d1, d2, d3, len(src), src) }
	}
}
