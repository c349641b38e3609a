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
use context_coursecat;
use context_user;
use core_external\external_api;
use core_external\external_function_parameters;
use core_external\external_single_structure;
use core_external\external_value;
use invalid_parameter_exception;
use moodle_exception;

/**
 * Queue the restore of a Common Cartridge from the caller's draft area.
 *
 * @package    local_lmsbridge
 * @copyright  2026 LMS Bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class restore_cartridge extends external_api {
    /**
     * Describe the parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'draftitemid' => new external_value(PARAM_INT, 'Draft item id returned by /webservice/upload.php'),
            'courseid' => new external_value(PARAM_INT, 'Existing target course, 0 for a new course', VALUE_DEFAULT, 0),
            'categoryid' => new external_value(PARAM_INT, 'Category of the new course (courseid 0)', VALUE_DEFAULT, 0),
            'fullname' => new external_value(PARAM_TEXT, 'Full name of the new course', VALUE_DEFAULT, ''),
            'shortname' => new external_value(PARAM_TEXT, 'Short name of the new course', VALUE_DEFAULT, ''),
            'mode' => new external_value(PARAM_ALPHA,
                'new (courseid 0), merge (add to the course) or replace (delete the course content first); '
                . 'empty: new for courseid 0, else merge', VALUE_DEFAULT, ''),
        ]);
    }

    /**
     * Check the caller's rights, keep the cartridge and queue the restore task.
     *
     * @param int $draftitemid
     * @param int $courseid
     * @param int $categoryid
     * @param string $fullname
     * @param string $shortname
     * @param string $mode
     * @return array taskid and courseid
     */
    public static function execute(int $draftitemid, int $courseid = 0, int $categoryid = 0,
            string $fullname = '', string $shortname = '', string $mode = ''): array {
        global $CFG, $DB, $USER;
        require_once($CFG->dirroot . '/backup/util/includes/restore_includes.php');

        $params = self::validate_parameters(self::execute_parameters(), compact(
            'draftitemid', 'courseid', 'categoryid', 'fullname', 'shortname', 'mode'));
        $mode = $params['mode'] ?: ($params['courseid'] ? 'merge' : 'new');
        if (($mode === 'new') !== ($params['courseid'] == 0) || !in_array($mode, ['new', 'merge', 'replace'])) {
            throw new invalid_parameter_exception(get_string('error:badmode', 'local_lmsbridge', $mode));
        }

        if ($mode === 'new') {
            $fullname = trim($params['fullname']);
            $shortname = trim($params['shortname']);
            if (!$params['categoryid'] || $fullname === '' || $shortname === '') {
                throw new invalid_parameter_exception(get_string('error:namesrequired', 'local_lmsbridge'));
            }
            $context = context_coursecat::instance($params['categoryid']);
            self::validate_context($context);
            require_capability('moodle/course:create', $context);
            if ($DB->record_exists('course', ['shortname' => $shortname])) {
                throw new moodle_exception('shortnametaken', '', '', $shortname);
            }
        } else {
            $context = context_course::instance($params['courseid']);
            self::validate_context($context);
        }
        require_capability('moodle/restore:restorecourse', $context);
        require_capability('local/lmsbridge:restorecartridge', $context);

        $fs = get_file_storage();
        $files = $fs->get_area_files(context_user::instance($USER->id)->id, 'user', 'draft',
            $params['draftitemid'], 'id DESC', false);
        $draftfile = reset($files);
        if (!$draftfile) {
            throw new moodle_exception('error:nocartridge', 'local_lmsbridge', '', $params['draftitemid']);
        }

        $transaction = $DB->start_delegated_transaction();
        if ($mode === 'new') {
            // Like the restore UI: an empty hidden course that the restore fills.
            $courseid = \restore_dbops::create_new_course($fullname, $shortname, $params['categoryid']);
        } else {
            $courseid = $params['courseid'];
        }

        $now = time();
        $restoreid = $DB->insert_record('local_lmsbridge_restores', (object) [
            'courseid' => $courseid,
            'contextid' => $context->id,
            'mode' => $mode,
            'status' => 'queued',
            'filename' => $draftfile->get_filename(),
            'timecreated' => $now,
            'timemodified' => $now,
        ]);

        // Keep a copy: draft areas are cleaned up after a few days. No owner is stored with it.
        $fs->create_file_from_storedfile([
            'contextid' => context_course::instance($courseid)->id,
            'component' => 'local_lmsbridge',
            'filearea' => 'cartridge',
            'itemid' => $restoreid,
            'filepath' => '/',
            'userid' => null,
        ], $draftfile);

        $task = new \local_lmsbridge\task\restore_cartridge();
        $task->set_custom_data(['restoreid' => $restoreid]);
        $task->set_userid($USER->id);
        \core\task\manager::queue_adhoc_task($task);
        $transaction->allow_commit();

        return ['taskid' => $restoreid, 'courseid' => $courseid];
    }

    /**
     * Describe the result.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'taskid' => new external_value(PARAM_INT, 'Id to pass to local_lmsbridge_get_restore_status'),
            'courseid' => new external_value(PARAM_INT, 'Target course (created empty for mode new)'),
        ]);
    }
}
