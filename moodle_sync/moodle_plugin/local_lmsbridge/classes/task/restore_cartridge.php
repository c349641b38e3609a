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

namespace local_lmsbridge\task;

defined('MOODLE_INTERNAL') || die();

require_once($CFG->dirroot . '/backup/util/includes/restore_includes.php');

use backup;
use backup_general_helper;
use context_course;
use moodle_exception;
use restore_controller;
use stdClass;
use stored_file;

/**
 * Restore a Common Cartridge kept by the restore_cartridge web service.
 *
 * Does what Moodle's restore UI does for an IMSCC file, which the CLI restore
 * skips: unzip into a backup temp directory, detect the format, convert the
 * cartridge to a Moodle backup, then precheck and execute the restore plan.
 *
 * @package    local_lmsbridge
 * @copyright  2026 LMS Bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class restore_cartridge extends \core\task\adhoc_task {
    /** @var int[] Restore target for each mode. */
    private const TARGETS = [
        'new' => backup::TARGET_NEW_COURSE,
        'merge' => backup::TARGET_EXISTING_ADDING,
        'replace' => backup::TARGET_EXISTING_DELETING,
    ];

    /** @var stdClass|null the restore in progress, for the shutdown guard */
    private $current = null;

    /** @var string its backup temp directory name */
    private $tempdir = '';

    /**
     * Name shown in the task list.
     *
     * @return string
     */
    public function get_name(): string {
        return get_string('taskrestorecartridge', 'local_lmsbridge');
    }

    /**
     * Run the restore and record its outcome; never leaves a failure to the task queue.
     */
    public function execute() {
        global $DB;

        $restore = $DB->get_record('local_lmsbridge_restores', ['id' => $this->get_custom_data()->restoreid]);
        if (!$restore || $restore->status === 'done' || $restore->status === 'failed') {
            mtrace('LMS Bridge restore ' . $this->get_custom_data()->restoreid . ' is already finished.');
            return;
        }
        if ($restore->status === 'running') {
            // An earlier attempt ended the PHP process before it could record an outcome.
            $this->finish($restore, get_string('error:interrupted', 'local_lmsbridge'));
            return;
        }
        $this->set_state($restore, 'running');
        mtrace("LMS Bridge restore {$restore->id}: {$restore->filename} into course {$restore->courseid} ({$restore->mode})");

        $this->current = $restore;
        $this->tempdir = restore_controller::get_tempdir_name($restore->courseid, $this->get_userid());
        \core_shutdown_manager::register_function([$this, 'shutdown_guard']);
        try {
            $this->finish($restore, null, $this->restore($restore, $this->find_cartridge($restore), $this->tempdir));
        } catch (\Throwable $e) {
            $this->finish($restore, $e->getMessage());
        }
    }

    /**
     * Record the failure when the process ends in the middle of a restore.
     *
     * Moodle's Common Cartridge converter ends the PHP process with die() on
     * some errors, so neither catch nor finally runs; its log names the cause.
     */
    public function shutdown_guard(): void {
        global $CFG;
        if ($this->current) {
            $log = @file_get_contents($CFG->backuptempdir . '/' . $this->tempdir . '/cc2moodle.log');
            $lines = preg_split('/[\r\n]+/', trim((string) $log));
            $cause = preg_replace('/^.*? - /', '', (string) end($lines));
            $this->finish($this->current, get_string('error:converterstopped', 'local_lmsbridge', $cause));
        }
    }

    /**
     * Delete the kept cartridge and the temp files, then record the outcome.
     *
     * A failed restore into a course created empty for it deletes that course again.
     *
     * @param stdClass $restore
     * @param string|null $error error message, null on success
     * @param string $message outcome message on success
     */
    private function finish(stdClass $restore, ?string $error, string $message = ''): void {
        global $CFG;
        $this->current = null;
        if ($this->tempdir !== '') {
            // The directory and, after an interrupted conversion, the converter's working copies next to it.
            $base = $CFG->backuptempdir . '/' . $this->tempdir;
            foreach (array_merge([$base], glob($base . '_*') ?: []) as $dir) {
                fulldelete($dir);
            }
        }
        $context = context_course::instance($restore->courseid, IGNORE_MISSING);
        if ($context) {
            get_file_storage()->delete_area_files($context->id, 'local_lmsbridge', 'cartridge', $restore->id);
        }
        if ($error === null) {
            $this->set_state($restore, 'done', $message);
        } else {
            if ($restore->mode === 'new' && $context) {
                delete_course($restore->courseid, false);
                $restore->courseid = 0;
                $error = rtrim($error, '. ') . '. ' . get_string('error:newcoursedeleted', 'local_lmsbridge');
            }
            $this->set_state($restore, 'failed', $error);
        }
        mtrace("LMS Bridge restore {$restore->id}: {$restore->status}. {$restore->message}");
    }

    /**
     * Convert and restore the cartridge.
     *
     * @param stdClass $restore row of local_lmsbridge_restores
     * @param stored_file $file the kept cartridge
     * @param string $tempdir name of the backup temp directory to use
     * @return string outcome message
     */
    private function restore(stdClass $restore, stored_file $file, string $tempdir): string {
        global $CFG;

        if (!$file->extract_to_pathname(get_file_packer('application/zip'),
                make_backup_temp_directory($tempdir))) {
            throw new moodle_exception('error:notzip', 'local_lmsbridge', '', $restore->filename);
        }
        $format = backup_general_helper::detect_backup_format($tempdir);
        if ($format !== backup::FORMAT_IMSCC11 && $format !== backup::FORMAT_IMSCC1) {
            $this->refuse($restore->filename, $CFG->backuptempdir . '/' . $tempdir . '/imsmanifest.xml');
        }

        $rc = new restore_controller($tempdir, $restore->courseid, backup::INTERACTIVE_NO,
            backup::MODE_GENERAL, $this->get_userid(), self::TARGETS[$restore->mode]);
        $warnings = [];
        try {
            // The converter loads its templates by paths relative to backup/, the restore UI's working directory.
            $cwd = getcwd();
            chdir($CFG->dirroot . '/backup');
            try {
                $rc->convert();
            } finally {
                chdir($cwd);
            }
            $course = get_course($restore->courseid);
            // Keep the names given by the caller, the enrolments and the groups of a replaced course.
            $this->set_setting($rc, 'course_fullname', $course->fullname);
            $this->set_setting($rc, 'course_shortname', $course->shortname);
            $this->set_setting($rc, 'keep_roles_and_enrolments', 1);
            $this->set_setting($rc, 'keep_groups_and_groupings', 1);
            if (!$rc->execute_precheck()) {
                $results = $rc->get_precheck_results();
                if (!empty($results['errors'])) {
                    throw new moodle_exception('error:precheck', 'local_lmsbridge', '', implode(' ', $results['errors']));
                }
                $warnings = $results['warnings'] ?? [];
            }
            $rc->execute_plan();
        } finally {
            $rc->destroy();
        }
        $this->keep_course_names($course);

        $modinfo = get_fast_modinfo($restore->courseid);
        $message = get_string('status:done', 'local_lmsbridge', [
            'sections' => count($modinfo->get_section_info_all()),
            'activities' => count($modinfo->get_cms()),
        ]);
        if ($warnings) {
            $message .= ' ' . get_string('status:warnings', 'local_lmsbridge', implode(' ', $warnings));
        }
        return $message;
    }

    /**
     * Give the course back the names it had before the restore.
     *
     * Moodle's restore passes the names through restore_dbops::calculate_course_names(), which appends
     * " copy N" and "_N" while another course has the same full or short name: a new course would lose the
     * names the caller asked for. Merge and replace change the course record only with overwrite_conf, which
     * stays off here (a converted plan gets no site defaults); checked all the same.
     * Like the restore, which wrote them, this writes the course record and rebuilds the caches; no
     * course_updated event, whose observers would e.g. add the news forum before the course is first viewed.
     *
     * @param stdClass $before the course record from before the restore
     */
    private function keep_course_names(stdClass $before): void {
        global $DB;

        $after = $DB->get_record('course', ['id' => $before->id], 'id, fullname, shortname', MUST_EXIST);
        $names = [];
        foreach (['fullname', 'shortname'] as $field) {
            if ($after->$field !== $before->$field) {
                $names[$field] = $before->$field;
            }
        }
        if (isset($names['shortname']) && $DB->record_exists_select('course', 'shortname = ? AND id <> ?',
                [$before->shortname, $before->id])) {
            // Taken by another course meanwhile: keep the unique short name the restore chose.
            unset($names['shortname']);
        }
        if (!$names) {
            return;
        }
        $DB->update_record('course', (object) (['id' => $before->id, 'timemodified' => time()] + $names));
        rebuild_course_cache($before->id, true);
        \cache_helper::purge_by_event('changesincourse');
        mtrace("LMS Bridge: course {$before->id} keeps its names: " . implode(' / ', $names));
    }

    /**
     * Throw the clearest error for a file Moodle cannot convert.
     *
     * @param string $filename
     * @param string $manifest path of the extracted imsmanifest.xml
     * @throws moodle_exception always
     */
    private function refuse(string $filename, string $manifest): void {
        $head = is_readable($manifest) ? (string) file_get_contents($manifest, false, null, 0, 4096) : '';
        if (preg_match('~imsccv(\d+)p(\d+)~i', $head, $m)) {
            throw new moodle_exception('error:unsupportedversion', 'local_lmsbridge', '',
                ['filename' => $filename, 'version' => $m[1] . '.' . $m[2]]);
        }
        throw new moodle_exception('error:notcartridge', 'local_lmsbridge', '', $filename);
    }

    /**
     * Set a restore setting when the plan has it and it is not locked.
     *
     * @param restore_controller $rc
     * @param string $name
     * @param mixed $value
     */
    private function set_setting(restore_controller $rc, string $name, $value): void {
        $plan = $rc->get_plan();
        if ($plan->setting_exists($name) && $plan->get_setting($name)->get_status() == \base_setting::NOT_LOCKED) {
            $plan->get_setting($name)->set_value($value);
        }
    }

    /**
     * The cartridge kept for this restore.
     *
     * @param stdClass $restore
     * @return stored_file
     * @throws moodle_exception when it is gone (e.g. the course was deleted meanwhile)
     */
    private function find_cartridge(stdClass $restore): stored_file {
        $context = context_course::instance($restore->courseid, IGNORE_MISSING);
        $files = $context ? get_file_storage()->get_area_files($context->id,
            'local_lmsbridge', 'cartridge', $restore->id, 'id', false) : [];
        if (!$files) {
            throw new moodle_exception('error:cartridgegone', 'local_lmsbridge', '', $restore->filename);
        }
        return reset($files);
    }

    /**
     * Record a new state.
     *
     * @param stdClass $restore row, updated in place
     * @param string $status queued, running, done or failed
     * @param string|null $message
     */
    private function set_state(stdClass $restore, string $status, ?string $message = null): void {
        global $DB;
        $restore->status = $status;
        $restore->message = $message;
        $restore->timemodified = time();
        $DB->update_record('local_lmsbridge_restores', $restore);
    }
}
