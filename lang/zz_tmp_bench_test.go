package lang

import (
	"fmt"
	"strings"
	"testing"
)

func genProgram(lines int) string {
	var b strings.Builder
	b.WriteString("const LIMIT = 100\n\n")
	n := 0
	for i := 0; n < lines; i++ {
		fmt.Fprintf(&b, `@resources(cpu=1, memory="256MB")
@retries(2)
task work%d(x: int, y: float = 1.5) -> int {
    let total = 0
    let a, b = [x, y]
    for i in range(x) {
        if i %% 2 == 0 and not (i > 10 or i in [1, 2, 3]) {
            total += i * 2 - x // 3 + -a ** 2
        } else if i < 5 {
            total -= 1
        } else {
            continue
        }
    }
    let m = {"k": [v * 2 for v in range(10) if v %% 3 != 0], "j": a if b else none}
    try {
        fail("bad")
    } catch err {
        print(err.message, xs[1:3], xs[::2])
    }
    while total > LIMIT { total = total / 2 }
    return total
}

`, i)
		n += 24
	}
	return b.String()
}

func BenchmarkParseTmp(b *testing.B) {
	src := genProgram(2000)
	b.SetBytes(int64(len(src)))
	for i := 0; i < b.N; i++ {
		if _, err := Parse("b.rayflow", src); err != nil {
			b.Fatal(err)
		}
	}
}
