package exec_test

import "testing"

// A slice's step may be as large as an int goes: the indexes it selects
// are counted, not stepped past the end, where the next one would wrap
// around the int limit (it did: index out of range [-9223372036854775808]).
func TestSliceStepAtTheIntLimit(t *testing.T) {
	main, th := load(t, `
pipeline main() {
    let xs = [1, 2, 3]
    let s = "abc"
    return [xs[1::9223372036854775807], xs[1::-9223372036854775807], xs[::9223372036854775807],
        xs[::-9223372036854775807], s[2::-9223372036854775807], xs[::2], xs[::-1], xs[3:0], s[::-2]]
}`)
	v, err := main.Run(th, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `[[2], [2], [1], [3], "c", [1, 3], [3, 2, 1], [], "ca"]`
	if got := v.String(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
