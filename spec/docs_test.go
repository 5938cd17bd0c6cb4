package spec

// The pages of this reference show complete programs in ```rayflow blocks,
// each followed by an ```output block of what `rayflow run prog.rayflow`
// prints (standard output and standard error together); a first line
// `# run: ...` gives the command line. TestDocExamples runs every such
// pair, so that the pages say what is true.

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// docExample is one program of a page with what it must print.
type docExample struct {
	page   string
	line   int // of the ```rayflow fence
	source string
	argv   []string // the command line after `rayflow`, file name prog.rayflow
	output string
}

// docExamples finds the program/output pairs of a page.
func docExamples(page, text string) []docExample {
	lines := strings.Split(text, "\n")
	var out []docExample
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```rayflow" {
			continue
		}
		src, end := fenced(lines, i+1)
		j := end + 1
		for j < len(lines) && strings.TrimSpace(lines[j]) == "" {
			j++
		}
		if j >= len(lines) || strings.TrimSpace(lines[j]) != "```output" {
			i = end
			continue
		}
		output, oend := fenced(lines, j+1)
		ex := docExample{page: page, line: i + 1, source: src, output: output, argv: []string{"run", "prog.rayflow"}}
		if first, _, _ := strings.Cut(src, "\n"); strings.HasPrefix(first, "# run:") {
			ex.argv = strings.Fields(strings.TrimPrefix(first, "# run:"))
		}
		out = append(out, ex)
		i = oend
	}
	return out
}

// fenced returns the text of a fenced block whose body starts at line
// from, and the index of its closing fence.
func fenced(lines []string, from int) (string, int) {
	var body []string
	for k := from; k < len(lines); k++ {
		if strings.TrimSpace(lines[k]) == "```" {
			return strings.Join(body, "\n") + "\n", k
		}
		body = append(body, lines[k])
	}
	return strings.Join(body, "\n") + "\n", len(lines)
}

func TestDocExamples(t *testing.T) {
	if buildErr != nil {
		t.Fatalf("cannot build the rayflow CLI:\n%v", buildErr)
	}
	pages, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, page := range pages {
		text, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, ex := range docExamples(page, string(text)) {
			found++
			t.Run(strings.TrimSuffix(page, ".md")+"_line"+itoa(ex.line), func(t *testing.T) {
				t.Parallel()
				runDocExample(t, ex)
			})
		}
	}
	if found == 0 {
		t.Fatal("no ```rayflow block followed by an ```output block in spec/*.md")
	}
}

func runDocExample(t *testing.T, ex docExample) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "prog.rayflow"), []byte(ex.source), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), programTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, rayflowBin, ex.argv...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "TERM=dumb")
	var both bytes.Buffer
	cmd.Stdout, cmd.Stderr = &both, &both
	cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s:%d: rayflow %s timed out after %v", ex.page, ex.line, strings.Join(ex.argv, " "), programTimeout)
	}
	if got := both.String(); got != ex.output {
		t.Errorf("%s:%d: rayflow %s prints what the page does not say (-page +printed):\n%s",
			ex.page, ex.line, strings.Join(ex.argv, " "), diff(ex.output, got))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
