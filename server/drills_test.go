package server

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/auth"
	"github.com/orthocds/orthocds/cases"
	"github.com/orthocds/orthocds/drills"
)

// drillService is the drills over the embedded cases, with attempts in a
// file of the test's own.
func drillService(t *testing.T) (*drills.Service, []cases.Case) {
	t.Helper()
	f := setup(t)
	cs, err := cases.Load(cases.Embedded(), f.Corpus)
	if err != nil {
		t.Fatal(err)
	}
	st, err := drills.OpenFileStore(filepath.Join(t.TempDir(), "attempts.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return drills.New(drills.Config{Cases: cs, Store: st, Scope: f.Analyzer, Corpus: f.Corpus}), cs
}

type apiClient struct {
	t   *testing.T
	url string
	key string
}

func (c apiClient) do(method, path, body string) (int, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// Through the API: a student's attempt is invisible to another student
// (404, absent from their list), and neither the attempt nor any other
// student endpoint shows the expected answers before it is submitted;
// after submission the student gets the grade, the expected answers and
// the citations. Instructors see every attempt, the report and the CSV.
func TestDrillPrivacyThroughAPI(t *testing.T) {
	svc, cs := drillService(t)
	keys, err := auth.OpenKeys(filepath.Join(t.TempDir(), "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	secret := func(name string, r orthocds.Role) string {
		k, _, err := keys.Create(name, r)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	a := &auth.Authenticator{Keys: keys}
	ts := httptest.NewServer(New(Config{Guidelines: setup(t).Corpus, Drills: svc, Authenticate: a.Authenticate,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer ts.Close()
	alice := apiClient{t, ts.URL, secret("alice", orthocds.RoleStudent)}
	bob := apiClient{t, ts.URL, secret("bob", orthocds.RoleStudent)}
	teacher := apiClient{t, ts.URL, secret("teacher", orthocds.RoleInstructor)}
	var c cases.Case
	for _, x := range cs {
		if x.ID == "denosumab-stop" {
			c = x
		}
	}
	secrets := []string{c.Expected.Plan.EN, c.Expected.Diagnosis.EN, c.Expected.Expert.EN, c.Rubric[0].Criterion.EN}
	for _, f := range append(c.History, c.Exam...) {
		secrets = append(secrets, f.Text.EN)
	}
	for _, x := range c.Tests {
		secrets = append(secrets, x.Result.EN)
	}
	leaks := func(what string, body []byte) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(string(body), s) {
				t.Errorf("%s shows %q before submission", what, s)
			}
		}
		if strings.Contains(string(body), `"grade"`) || strings.Contains(string(body), "expected") {
			t.Errorf("%s shows a grade or expected answer before submission: %s", what, body)
		}
	}

	code, body := alice.do("POST", "/v1/drills", `{"case_id":"denosumab-stop","lang":"en"}`)
	if code != http.StatusCreated {
		t.Fatalf("start: %d %s", code, body)
	}
	leaks("the started attempt", body)
	var v struct {
		ID string `json:"id"`
	}
	json.Unmarshal(body, &v)
	_, body = alice.do("GET", "/v1/cases", "")
	leaks("the case list", body)
	_, body = alice.do("GET", "/v1/drills/"+v.ID, "")
	leaks("the attempt", body)
	_, body = alice.do("GET", "/v1/drills", "")
	leaks("the student's list", body)
	if code, body := alice.do("GET", "/v1/cases/denosumab-stop/key", ""); code != http.StatusForbidden {
		t.Errorf("a student reading the answer key: %d %s", code, body)
	}
	for _, path := range []string{"/v1/class", "/v1/class.csv"} {
		if code, _ := alice.do("GET", path, ""); code != http.StatusForbidden {
			t.Errorf("a student reading %s: %d", path, code)
		}
	}

	if code, body := bob.do("GET", "/v1/drills/"+v.ID, ""); code != http.StatusNotFound || strings.Contains(string(body), "denosumab") {
		t.Errorf("bob reading alice's attempt: %d %s", code, body)
	}
	if code, _ := bob.do("POST", "/v1/drills/"+v.ID+"/ask", `{"question":"Any fractures?"}`); code != http.StatusNotFound {
		t.Errorf("bob asking in alice's attempt: %d", code)
	}
	if code, body := bob.do("GET", "/v1/drills", ""); code != http.StatusOK || strings.Contains(string(body), v.ID) {
		t.Errorf("bob's list: %d %s", code, body)
	}
	aliceID := func() string {
		_, b := alice.do("GET", "/v1/drills/"+v.ID, "")
		var x struct{ Student string }
		json.Unmarshal(b, &x)
		return x.Student
	}()
	if code, _ := bob.do("GET", "/v1/drills?student="+aliceID, ""); code != http.StatusForbidden {
		t.Errorf("bob listing alice's attempts by ID: %d", code)
	}

	// Bad input: problem JSON naming the field.
	code, body = alice.do("POST", "/v1/drills/"+v.ID+"/submit", `{"diagnosis":"osteoporosis","plan":""}`)
	var p Problem
	json.Unmarshal(body, &p)
	if code != http.StatusUnprocessableEntity || p.Field != "plan" {
		t.Errorf("empty plan: %d %s", code, body)
	}

	code, body = alice.do("POST", "/v1/drills/"+v.ID+"/submit",
		`{"diagnosis":`+jsonString(c.Expected.Diagnosis.EN)+`,"plan":`+jsonString(c.Expected.Plan.EN)+`}`)
	if code != http.StatusOK {
		t.Fatalf("submit: %d %s", code, body)
	}
	var graded struct {
		Grade     *cases.Grade      `json:"grade"`
		Citations []drills.Citation `json:"citations"`
	}
	json.Unmarshal(body, &graded)
	if graded.Grade == nil || graded.Grade.Score != 1 || graded.Grade.Expected.EN != c.Expected.Plan.EN || len(graded.Citations) == 0 {
		t.Errorf("graded attempt: %s", body)
	}

	if code, body := teacher.do("GET", "/v1/drills/"+v.ID, ""); code != http.StatusOK || !strings.Contains(string(body), `"grade"`) {
		t.Errorf("the instructor reading alice's attempt: %d", code)
	}
	if code, body := teacher.do("GET", "/v1/cases/denosumab-stop/key?lang=zh", ""); code != http.StatusOK || !strings.Contains(string(body), c.Expected.Plan.ZH) {
		t.Errorf("the instructor reading the key: %d", code)
	}
	code, body = teacher.do("GET", "/v1/class", "")
	var rep drills.ClassReport
	json.Unmarshal(body, &rep)
	if code != http.StatusOK || rep.Submitted != 1 || len(rep.Cases) != 1 || rep.Cases[0].MeanScore != 1 {
		t.Errorf("class report: %d %s", code, body)
	}
	code, body = teacher.do("GET", "/v1/class.csv", "")
	rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if code != http.StatusOK || err != nil || len(rows) != 2 || rows[1][0] != v.ID {
		t.Errorf("CSV: %d %v %q", code, err, body)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
