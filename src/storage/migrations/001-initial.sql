-- The four stores of the embedded JSON files, as tables. Days and timestamps keep the text forms the API uses
-- (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ), so what is read back is exactly what was written.

CREATE TABLE students (
  position bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  roll_no text PRIMARY KEY,
  url text NOT NULL,
  urls jsonb,
  registered_at text,
  photo_replaced_at text
);

CREATE TABLE student_classes (
  class_id text NOT NULL,
  roll_no text NOT NULL REFERENCES students (roll_no) ON DELETE CASCADE,
  PRIMARY KEY (class_id, roll_no)
);
CREATE INDEX student_classes_roll_no ON student_classes (roll_no);

-- One row per student and day: the primary key is what makes "once per day, across every room" hold.
CREATE TABLE attendance (
  day text NOT NULL CHECK (day ~ '^\d{4}-\d{2}-\d{2}$'),
  roll_no text NOT NULL,
  position bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  timestamp text NOT NULL,
  source text NOT NULL CHECK (source IN ('camera', 'manual')),
  session_id text,
  distance double precision,
  room text,
  marked_by text,
  reason text,
  PRIMARY KEY (day, roll_no)
);
CREATE INDEX attendance_roll_no ON attendance (roll_no);

CREATE TABLE attendance_changes (
  position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at text NOT NULL,
  day text NOT NULL,
  roll_no text NOT NULL,
  action text NOT NULL CHECK (action IN ('marked', 'removed')),
  changed_by text,
  reason text,
  before jsonb
);
CREATE INDEX attendance_changes_day_roll_no ON attendance_changes (day, roll_no);
CREATE INDEX attendance_changes_roll_no ON attendance_changes (roll_no);

CREATE TABLE enrollment_outcomes (
  roll_no text PRIMARY KEY,
  outcome jsonb NOT NULL
);

CREATE TABLE descriptor_photos (
  roll_no text NOT NULL,
  position integer NOT NULL,
  model text NOT NULL,
  url text NOT NULL,
  sha256 text NOT NULL,
  descriptor bytea NOT NULL,
  PRIMARY KEY (roll_no, position)
);
