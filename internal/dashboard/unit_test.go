package dashboard

import (
	"net/http/httptest"
	"strconv"
	"testing"
)

func TestUnitPaginate(t *testing.T) {
	rows := make([]string, 250)
	for i := range rows {
		rows[i] = "row-" + strconv.Itoa(i)
	}
	text := func(s *string) string { return *s }
	for _, tc := range []struct {
		url         string
		first, last string
		total, page int
		prev, next  string
	}{
		{"/clusters", "row-0", "row-99", 250, 1, "", "/clusters?page=2"},
		{"/clusters?page=3", "row-200", "row-249", 250, 3, "/clusters?page=2", ""},
		{"/clusters?page=9", "row-200", "row-249", 250, 3, "/clusters?page=2", ""},
		{"/clusters?q=ROW-1", "row-1", "row-188", 111, 1, "", "/clusters?page=2&q=ROW-1"},
	} {
		got, p := paginate(httptest.NewRequest("GET", tc.url, nil), rows, text, 100)
		if got[0] != tc.first || got[len(got)-1] != tc.last || p.Total != tc.total || p.Page != tc.page || p.Prev != tc.prev || p.Next != tc.next {
			t.Errorf("%s: %s…%s %+v", tc.url, got[0], got[len(got)-1], p)
		}
	}
	if got, p := paginate(httptest.NewRequest("GET", "/clusters?q=none", nil), rows, text, 100); len(got) != 0 || p.Total != 0 || p.Pages != 1 {
		t.Errorf("no match: %v %+v", got, p)
	}
}
