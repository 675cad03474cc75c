package sor

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

func TestBatches(t *testing.T) {
	for _, tt := range []struct {
		n     int
		sizes []int
	}{
		{0, nil}, {1, []int{1}}, {100, []int{100}}, {101, []int{100, 1}}, {250, []int{100, 100, 50}},
	} {
		statements := make([]Statement, tt.n)
		for i := range statements {
			statements[i].PUID = fmt.Sprint("p", i)
		}
		batches := Batches(statements)
		var sizes []int
		next := 0
		for _, b := range batches {
			sizes = append(sizes, len(b))
			for _, s := range b {
				if s.PUID != fmt.Sprint("p", next) {
					t.Fatalf("%d statements: order broken at %s", tt.n, s.PUID)
				}
				next++
			}
		}
		if !slices.Equal(sizes, tt.sizes) {
			t.Errorf("%d statements: batches of %v, want %v", tt.n, sizes, tt.sizes)
		}
		// A batch cannot grow into the next one's statements.
		if len(batches) > 1 {
			_ = append(batches[0], Statement{PUID: "x"})
			if batches[1][0].PUID == "x" {
				t.Errorf("appending to a batch changed the next batch")
			}
		}
	}
}

func TestCheckSubmission(t *testing.T) {
	a, b, c := goodStatement(), goodStatement(), goodStatement()
	b.PUID = "parleyeu-sor-43"
	c.PUID = a.PUID
	b.Category = ""
	var problems Problems
	if !errors.As(CheckSubmission([]Statement{a, b, c}), &problems) {
		t.Fatal("no problems")
	}
	if got := problems.Fields(); !slices.Equal(got, []string{"statements.1.category", "statements.2.puid"}) {
		t.Errorf("fields %v", got)
	}
	if problems[1].Message != "statements.2 has the same puid as statements.0; each statement needs its own" {
		t.Errorf("message %q", problems[1].Message)
	}
	if err := CheckSubmission([]Statement{a, b}[:1]); err != nil {
		t.Errorf("one good statement: %v", err)
	}
}
