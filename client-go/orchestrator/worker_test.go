package orchestrator

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// Worker and StreamWorker fail a batch with the same reason: the error's text trimmed, a
// fallback when empty, and a cut that never splits a UTF-8 sequence (a split one cannot be
// marshalled, so the report would fail).
func TestFailureReason(t *testing.T) {
	if got := FailureReason(errors.New("  disk full \n")); got != "disk full" {
		t.Errorf("trimmed: got %q", got)
	}
	if got := FailureReason(errors.New(" \t")); got != "handler failed" {
		t.Errorf("blank: got %q", got)
	}
	long := "x" + strings.Repeat("é", 600) // 1,201 bytes; byte 1,024 is inside an "é"
	got := FailureReason(errors.New(long))
	if !utf8.ValidString(got) || len(got) != 1023 || !strings.HasPrefix(long, got) {
		t.Errorf("cut: got %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
	}
}
