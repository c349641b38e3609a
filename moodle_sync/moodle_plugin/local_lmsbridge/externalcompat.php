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

/**
 * Lets the external API classes use the Moodle 4.2+ names on Moodle 4.1.
 *
 * Moodle 4.2 moved the external API into the core_external namespace and kept
 * the old global names as aliases (lib/externallib.php). Moodle 4.1 only has
 * the global names. The classes of this plugin are written against the new
 * names; on 4.1 this file loads lib/externallib.php and aliases the old
 * classes to the new names. On 4.2+ it does nothing. Drop it with 4.1.
 *
 * @package    local_lmsbridge
 * @copyright  2026 LMS Bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

if (!class_exists(\core_external\external_api::class)) {
    global $CFG;
    require_once($CFG->libdir . '/externallib.php');
    foreach (['external_api', 'external_function_parameters', 'external_value', 'external_single_structure',
            'external_multiple_structure', 'external_warnings'] as $legacyname) {
        class_alias($legacyname, 'core_external\\' . $legacyname);
    }
}
