-- Migration number: 0001
CREATE TABLE smoke (id INTEGER PRIMARY KEY);
