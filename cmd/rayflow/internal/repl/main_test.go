package repl

import (
	"os"
	"testing"

	"github.com/rayflow/rayflow/internal/clibuild"
)

// cli is the rayflow binary the terminal session test drives, built by
// the first test that needs it and removed by TestMain.
var cli clibuild.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	cli.Remove()
	os.Exit(code)
}
