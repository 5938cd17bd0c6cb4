package frontend_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rayflow/rayflow/frontend"
)

// BenchmarkCompileExample compiles (parse, check, plan) each program of
// examples/, as every node of a cluster does at a job's start.
func BenchmarkCompileExample(b *testing.B) {
	files, err := filepath.Glob("../examples/*.rayflow")
	if err != nil || len(files) == 0 {
		b.Fatalf("no examples: %v", err)
	}
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		name := filepath.Base(path)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := frontend.Compile(name, string(src), nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
