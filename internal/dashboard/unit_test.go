package dashboard

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
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

func TestUnitSession(t *testing.T) {
	token := []byte("s3cr3t")
	now := time.Unix(1_800_000_000, 0)
	value := session(token, now.Add(time.Hour))
	stamp, mac, _ := strings.Cut(value, ".")
	for _, tc := range []struct {
		name  string
		value string
		token []byte
		at    time.Time
		want  bool
	}{
		{"valid", value, token, now, true},
		{"expired", value, token, now.Add(time.Hour), false},
		{"token rotated", value, []byte("other"), now, false},
		{"expiry pushed later", strconv.FormatInt(now.Add(48*time.Hour).Unix(), 10) + "." + mac, token, now, false},
		{"no signature", stamp, token, now, false},
		{"garbage", "x.y", token, now, false},
	} {
		if got := validSession(tc.value, tc.token, tc.at); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestUnitLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/profiles?q=x": "/profiles?q=x", "": "/clusters", "//evil.example.com": "/clusters",
		"https://evil.example.com/": "/clusters", "/\\evil": "/clusters", "/login": "/clusters",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}
