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

use context;
use core_external\external_api;
use core_external\external_function_parameters;
use core_external\external_multiple_structure;
use core_external\external_single_structure;
use core_external\external_value;

/**
 * Report the state of a cartridge restore and what arrived in the course.
 *
 * @package    local_lmsbridge
 * @copyright  2026 LMS Bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class get_restore_status extends external_api {
    /**
     * Describe the parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'taskid' => new external_value(PARAM_INT, 'Task id returned by local_lmsbridge_restore_cartridge'),
        ]);
    }

    /**
     * Return status, message and, once done, the course's sections and activities.
     *
     * @param int $taskid
     * @return array
     */
    public static function execute(int $taskid): array {
        global $DB;

        $params = self::validate_parameters(self::execute_parameters(), ['taskid' => $taskid]);
        $restore = $DB->get_record('local_lmsbridge_restores', ['id' => $params['taskid']], '*', MUST_EXIST);
        $context = context::instance_by_id($restore->contextid);
        self::validate_context($context);
        require_capability('local/lmsbridge:restorecartridge', $context);

        $sections = [];
        $activities = [];
        if ($restore->status === 'done' && $DB->record_exists('course', ['id' => $restore->courseid])) {
            $modinfo = get_fast_modinfo($restore->courseid);
            foreach ($modinfo->get_section_info_all() as $section) {
                $sections[] = [
                    'section' => $section->section,
                    'name' => (string) $section->name,
                    'summary' => trim(content_to_text((string) $section->summary, $section->summaryformat)),
                ];
            }
            foreach ($modinfo->get_cms() as $cm) {
                $activities[] = [
                    'cmid' => $cm->id,
                    'modname' => $cm->modname,
                    'name' => $cm->name,
                    'section' => $cm->sectionnum,
                ];
            }
        }

        return [
            'taskid' => $restore->id,
            'status' => $restore->status,
            'message' => (string) $restore->message,
            'courseid' => $restore->courseid,
            'timemodified' => $restore->timemodified,
            'sections' => $sections,
            'activities' => $activities,
        ];
    }

    /**
     * Describe the result.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'taskid' => new external_value(PARAM_INT, 'Task id'),
            'status' => new external_value(PARAM_ALPHA, 'queued, running, done or failed'),
            'message' => new external_value(PARAM_TEXT, 'Outcome or error message, empty while queued or running'),
            'courseid' => new external_value(PARAM_INT, 'Target course; 0 when a failed new course was deleted again'),
            'timemodified' => new external_value(PARAM_INT, 'Time of the last state change'),
            'sections' => new external_multiple_structure(new external_single_structure([
                'section' => new external_value(PARAM_INT, 'Section number, 0 = General'),
                'name' => new external_value(PARAM_TEXT, 'Section name, empty when it has the default name'),
                'summary' => new external_value(PARAM_RAW, 'Section summary as plain text'),
            ]), 'Sections of the course once the restore is done'),
            'activities' => new external_multiple_structure(new external_single_structure([
                'cmid' => new external_value(PARAM_INT, 'Course module id'),
                'modname' => new external_value(PARAM_PLUGIN, 'Module type, e.g. page or url'),
                'name' => new external_value(PARAM_TEXT, 'Activity name'),
                'section' => new external_value(PARAM_INT, 'Section number'),
            ]), 'Activities of the course once the restore is done'),
        ]);
    }
}
