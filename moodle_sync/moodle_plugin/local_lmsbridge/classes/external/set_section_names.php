<?php
// This file is part of Moodle - https://moodle.org/
//
// Moodle is free software: you can redistribute it and/or modify
// it under the terms of the GNU General Public License as published by
// the Free Software Foundation, either version 3 of the License, or
// (at your option) any later version.
//
// Moodle is distributed in the hope that it will be useful,
// but WITHOUT ANY WARRANTY; without even the implied warranty of
// MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
// GNU General Public License for more details.
//
// You should have received a copy of the GNU General Public License
// along with Moodle.  If not, see <https://www.gnu.org/licenses/>.

namespace local_lmsbridge\external;

defined('MOODLE_INTERNAL') || die();

require_once($CFG->dirroot . '/local/lmsbridge/externalcompat.php');

use context_course;
use core_external\external_api;
use core_external\external_function_parameters;
use core_external\external_multiple_structure;
use core_external\external_single_structure;
use core_external\external_value;
use core_external\external_warnings;

/**
 * Set the names of course sections (a cartridge's chapter titles arrive only as summaries).
 *
 * @package    local_lmsbridge
 * @copyright  2026 LMS Bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class set_section_names extends external_api {
    /**
     * Describe the parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'courseid' => new external_value(PARAM_INT, 'Course id'),
            'sections' => new external_multiple_structure(new external_single_structure([
                'section' => new external_value(PARAM_INT, 'Section number, 0 = General'),
                'name' => new external_value(PARAM_TEXT, 'New name; empty restores the default name'),
                'summary' => new external_value(PARAM_CLEANHTML,
                    'New summary (HTML); empty clears a summary that only repeated the title; omitted: unchanged',
                    VALUE_OPTIONAL),
            ])),
        ]);
    }

    /**
     * Rename the sections (and set their summaries when given); unknown section numbers become warnings.
     *
     * @param int $courseid
     * @param array $sections list of [section, name, summary (optional)]
     * @return array updated section numbers and warnings
     */
    public static function execute(int $courseid, array $sections): array {
        global $CFG, $DB;
        require_once($CFG->dirroot . '/course/lib.php');

        $params = self::validate_parameters(self::execute_parameters(), compact('courseid', 'sections'));
        $context = context_course::instance($params['courseid']);
        self::validate_context($context);
        require_capability('moodle/course:update', $context);

        $course = get_course($params['courseid']);
        $updated = [];
        $warnings = [];
        foreach ($params['sections'] as $wanted) {
            $section = $DB->get_record('course_sections', ['course' => $course->id, 'section' => $wanted['section']]);
            if (!$section) {
                $warnings[] = [
                    'item' => 'section',
                    'itemid' => $wanted['section'],
                    'warningcode' => 'unknownsection',
                    'message' => get_string('warning:nosection', 'local_lmsbridge',
                        ['course' => $course->id, 'section' => $wanted['section']]),
                ];
                continue;
            }
            $name = trim(\core_text::substr($wanted['name'], 0, 255));
            $changes = [];
            if ((string) $section->name !== $name) {
                $changes['name'] = $name === '' ? null : $name;
            }
            if (isset($wanted['summary']) && (string) $section->summary !== $wanted['summary']) {
                $changes += ['summary' => $wanted['summary'], 'summaryformat' => FORMAT_HTML];
            }
            if ($changes) {
                course_update_section($course, $section, $changes);
            }
            $updated[] = $wanted['section'];
        }
        return ['sections' => $updated, 'warnings' => $warnings];
    }

    /**
     * Describe the result.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'sections' => new external_multiple_structure(
                new external_value(PARAM_INT, 'Section number'), 'Sections that now carry the given name'),
            'warnings' => new external_warnings(),
        ]);
    }
}
