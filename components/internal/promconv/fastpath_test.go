package promconv

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestSeriesEnd finds where a sample line's name and labels end, quotes and escapes included.
func TestSeriesEnd(t *testing.T) {
	tests := []struct {
		line string
		want string // the series part; "" when the line is not a series
	}{
		{`up 1`, `up`},
		{`up`, `up`},
		{`a{b="c"} 1`, `a{b="c"}`},
		{`a{} 1`, `a{}`},
		{`a{b="}"} 1`, `a{b="}"}`},
		{`a{b="x\"}"} 1`, `a{b="x\"}"}`},
		{`a{b="x\\"} 1`, `a{b="x\\"}`},
		{`a{b="x\\\"}",c="d"} 1`, `a{b="x\\\"}",c="d"}`},
		{`a{b="c",d="e}f",g="h"} 2 123`, `a{b="c",d="e}f",g="h"}`},
		{`a{b="unterminated} 1`, ``},
		{`a{b="c" 1`, ``},
		{`{b="c"} 1`, ``},
		{`1a 1`, ``},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			end := seriesEnd([]byte(tt.line))
			if tt.want == "" {
				assert.Zero(t, end)
				return
			}
			assert.Equal(t, tt.want, tt.line[:end])
		})
	}
}
