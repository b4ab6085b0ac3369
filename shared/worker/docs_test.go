package worker

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestEveryFlagIsDocumented: docs/configuration.md has a line for every
// flag of the runtime, naming its environment variable when it has one.
func TestEveryFlagIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	var usage bytes.Buffer
	parseFlags("f", []string{"-h"}, &usage)
	flagLine := regexp.MustCompile(`(?m)^  -([a-z-]+)`)
	envOf := regexp.MustCompile(`\[([A-Z_]+)\]`)
	blocks := flagLine.FindAllStringSubmatchIndex(usage.String(), -1)
	if len(blocks) < 15 {
		t.Fatalf("found %d flags in the usage text:\n%s", len(blocks), usage.String())
	}
	for i, b := range blocks {
		name := usage.String()[b[2]:b[3]]
		end := len(usage.String())
		if i+1 < len(blocks) {
			end = blocks[i+1][0]
		}
		want := "| `-" + name + "` | "
		if env := envOf.FindStringSubmatch(usage.String()[b[1]:end]); env != nil {
			want += "`" + env[1] + "` |"
		}
		if !strings.Contains(string(doc), want) {
			t.Errorf("docs/configuration.md lacks %q", want)
		}
	}
}
